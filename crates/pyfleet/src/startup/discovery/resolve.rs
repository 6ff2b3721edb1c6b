//! From what a user typed (`--python PATH` or `--python-version SPEC`) to one
//! interpreter, through the async [`DiscoveryCache`].

use pyfleet_startup::discovery::{
    DiscoveryError, Interpreter, InterpreterRequest, LocalDiscovery, interpreter_at,
};

use super::cache::DiscoveryCache;

/// Resolves `spec` (a path, a command name or a version constraint) on this
/// machine, through the process-wide [`DiscoveryCache`].
pub async fn resolve_interpreter(spec: &str) -> Result<Interpreter, DiscoveryError> {
    resolve_interpreter_with(spec, DiscoveryCache::global(), &LocalDiscovery::new()).await
}

/// Resolves `spec` with `probe`'s settings (environment, directory, bounds) and
/// `cache`. A path or command is examined alone (no search of the machine); a
/// constraint searches the machine and picks by
/// [`Discovery::find`](pyfleet_startup::Discovery::find).
pub async fn resolve_interpreter_with(
    spec: &str,
    cache: &DiscoveryCache,
    probe: &LocalDiscovery,
) -> Result<Interpreter, DiscoveryError> {
    let request = InterpreterRequest::parse(spec)?;
    let Some(path) = request.path_to_examine(probe)? else {
        let InterpreterRequest::Constraint(constraint) = request else {
            unreachable!("only a constraint has no path to examine");
        };
        let found = cache.local(probe).await?;
        return found.discovery.best(&constraint).cloned();
    };
    let only_this = probe.clone().explicit([path.clone()]).search(false);
    let found = cache.local(&only_this).await?;
    interpreter_at(&found.discovery, &path)
}
