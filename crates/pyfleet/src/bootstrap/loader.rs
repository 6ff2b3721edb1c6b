//! The first-stage loader passed with `-c`.

use super::Nonce;

/// Upper bound on the loader's length; the whole argv stays under 1 KiB.
pub const LOADER_MAX_LEN: usize = 400;

/// Python source (2.7 and 3.x) that reads `payload_len` bytes of core from stdin and
/// runs it. The nonce appears reversed, so the markers it prints are not in argv.
///
/// It reads with `os.read` on fd 0, never through `sys.stdin`, whose buffering
/// would swallow the frames that follow the payload. Before importing anything it
/// takes '' (the working directory, which `-c` puts first on sys.path) off
/// sys.path, so a file there named like a module the core imports cannot replace
/// it; the core puts it back unless the configuration asks for a safe path.
pub fn loader_source(nonce: &Nonce, payload_len: usize) -> String {
    let reversed: String = nonce.as_str().chars().rev().collect();
    format!(
        "import sys;P=sys.path;D=P[:1]==[''];D and P.pop(0)\n\
         import os,zlib,marshal as m\n\
         K=b'{reversed}'[::-1]\n\
         os.write(1,b'PFR'+K+b'\\n')\n\
         n={payload_len};b=b''\n\
         while len(b)<n:\n c=os.read(0,n-len(b))\n if not c:raise SystemExit('pyfleet: stdin closed during bootstrap')\n b+=c\n\
         M=m.loads(zlib.decompress(b))\n\
         exec(compile(M[0][2],M[0][1],'exec'),{{'M':M,'K':K,'D':D}})\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::Markers;

    #[test]
    fn loader_is_short_and_hides_the_markers() {
        let nonce = Nonce::from_hex("0123456789ab").unwrap();
        let source = loader_source(&nonce, 123_456);
        assert!(source.len() <= LOADER_MAX_LEN, "{} bytes", source.len());
        let markers = Markers::new(&nonce);
        for marker in [&markers.ready, &markers.running] {
            let text = String::from_utf8_lossy(marker);
            assert!(!source.contains(text.trim_end()), "{text} is in the loader");
        }
        assert!(source.contains("n=123456;"));
        assert!(source.contains("ba9876543210"));
    }
}
