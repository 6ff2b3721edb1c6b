//! `pyfleet call MODULE.FUNCTION [ARGS...]`

use std::io::Write;

use pyfleet::Value;

use crate::EXIT_USAGE;
use crate::args::{InterpreterArgs, ModuleArgs, parse_call_arguments};
use crate::json_out::to_json;

#[derive(clap::Args, Debug)]
pub struct CallArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    #[command(flatten)]
    modules: ModuleArgs,
    /// Print a str or bytes result as it is instead of as JSON.
    #[arg(long)]
    raw: bool,
    /// The function: module.function, or module.Class.method; a name that is not
    /// in an importable module is looked up among the builtins (len, str.upper).
    #[arg(value_name = "MODULE.FUNCTION")]
    function: String,
    /// Arguments: Python literals or JSON (1, 'text', [1, 2], {"a": 1}); NAME=VALUE
    /// passes a keyword argument; other bare words are strings.
    #[arg(value_name = "ARGS", allow_hyphen_values = true)]
    args: Vec<String>,
}

pub async fn run(args: CallArgs) -> u8 {
    let arguments = match parse_call_arguments(&args.args) {
        Ok(arguments) => arguments,
        Err(message) => return super::usage_error(message),
    };
    if resolution_order(&args.function, false).is_empty() {
        eprintln!(
            "pyfleet: expected MODULE.FUNCTION, e.g. os.getpid, not {:?}",
            args.function
        );
        return EXIT_USAGE;
    }
    let modules = match args.modules.server(&[]) {
        Ok(modules) => modules,
        Err(message) => return super::usage_error(message),
    };
    let broker = super::cli_broker(modules);
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let result = call_dotted(
        &ctx,
        &args.function,
        Value::Tuple(arguments.args),
        Value::Dict(arguments.kwargs),
    )
    .await;
    let code = match result {
        Ok(value) => {
            print_result(&value, args.raw);
            0
        }
        Err(error) => super::report_call_error(&error),
    };
    broker.shutdown().await;
    code
}

/// Call a dotted name (`os.getpid`, `os.path.join`, `str.upper`, `len`) the way
/// `pyfleet call` resolves it; `dotted` must have been checked with
/// [`resolution_order`] (an empty order is a usage error).
pub async fn call_dotted(
    ctx: &pyfleet::Context,
    dotted: &str,
    args: Value,
    kwargs: Value,
) -> Result<Value, pyfleet::CallError> {
    let attempts = resolution_order(dotted, ctx.facts().version.0 == 2);
    let mut first_missing = None;
    let mut result = None;
    for (index, (module, function)) in attempts.iter().enumerate() {
        let outcome = ctx
            .call_value(module, function, args.clone(), kwargs.clone())
            .await;
        let missing = outcome
            .as_ref()
            .err()
            .and_then(|e| e.remote())
            .is_some_and(|r| module_is_missing(r, module));
        let last = index + 1 == attempts.len();
        if missing && !last {
            first_missing.get_or_insert(outcome);
            continue;
        }
        // Not a builtin either: the missing module says more than "module
        // 'builtins' has no attribute …".
        let not_builtin = last
            && outcome
                .as_ref()
                .err()
                .and_then(|e| e.remote())
                .is_some_and(|r| r.type_name == "AttributeError");
        result = Some(match first_missing.take() {
            Some(missing) if not_builtin => missing,
            _ => outcome,
        });
        break;
    }
    result.expect("a checked name has at least one place to look")
}

/// Where a dotted name may live, most specific first: `a.b.c` is `c` in module
/// `a.b`, else attribute `b.c` of module `a`, else `a.b.c` of the builtins.
pub fn resolution_order(dotted: &str, python2: bool) -> Vec<(String, String)> {
    let parts: Vec<&str> = dotted.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Vec::new();
    }
    let builtins = if python2 { "__builtin__" } else { "builtins" };
    (1..parts.len())
        .rev()
        .map(|split| (parts[..split].join("."), parts[split..].join(".")))
        .chain(std::iter::once((builtins.to_string(), dotted.to_string())))
        .collect()
}

/// True if `error` says that `module` itself does not exist (not that something it
/// imports is missing, which must be reported as it is).
fn module_is_missing(error: &pyfleet::RemoteError, module: &str) -> bool {
    matches!(
        error.type_name.as_str(),
        "ImportError" | "ModuleNotFoundError"
    ) && (error
        .message
        .contains(&format!("No module named '{module}'"))
        || error.message == format!("No module named {module}")
        || error
            .message
            .starts_with(&format!("No module named '{module}';")))
}

fn print_result(value: &Value, raw: bool) {
    let mut out = std::io::stdout().lock();
    let _ = match (raw, value) {
        (true, Value::Str(text)) => out.write_all(text.as_bytes()),
        (true, Value::Bytes(bytes)) => out.write_all(bytes),
        _ => writeln!(out, "{}", to_json(value)),
    };
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_names_resolve_longest_module_first() {
        let order = resolution_order("os.path.join", false);
        let expected = [
            ("os.path", "join"),
            ("os", "path.join"),
            ("builtins", "os.path.join"),
        ];
        assert_eq!(order, expected.map(|(m, f)| (m.to_string(), f.to_string())));
        assert_eq!(
            resolution_order("len", true),
            vec![("__builtin__".to_string(), "len".to_string())]
        );
        assert!(resolution_order("os..path", false).is_empty());
    }

    #[test]
    fn only_the_module_itself_missing_allows_a_retry() {
        let error = |type_name: &str, message: &str| pyfleet::RemoteError {
            type_name: type_name.into(),
            message: message.into(),
            traceback: String::new(),
            context: "c".into(),
        };
        assert!(module_is_missing(
            &error("ModuleNotFoundError", "No module named 'str'"),
            "str"
        ));
        assert!(module_is_missing(
            &error("ImportError", "No module named str"),
            "str"
        ));
        assert!(module_is_missing(
            &error(
                "ModuleNotFoundError",
                "No module named 'os.path.x'; 'os.path' is not a package"
            ),
            "os.path.x"
        ));
        assert!(!module_is_missing(
            &error("ModuleNotFoundError", "No module named 'yaml'"),
            "mytool"
        ));
        assert!(!module_is_missing(
            &error("AttributeError", "No module named 'str'"),
            "str"
        ));
    }
}
