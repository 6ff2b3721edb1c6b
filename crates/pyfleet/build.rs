//! Builds the shipped core from python/pyfleet_core at compile time: every module
//! minified; those needed to start packed into one marshal table (boot first) and
//! zlib-compressed as the bootstrap payload; those marked on-demand (first line
//! `# pyfleet-core: on-demand`) compressed one by one, sent only when a child asks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::{env, fs};

#[path = "src/bootstrap/minify.rs"]
#[allow(dead_code)]
mod minify;

/// The module the first-stage loader executes; it must be the table's first row.
const BOOT_MODULE: &str = "boot";

/// First line of a module that is not part of the bootstrap payload.
const ON_DEMAND_MARKER: &str = "# pyfleet-core: on-demand";

fn main() {
    let core_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/pyfleet_core");
    println!("cargo:rerun-if-changed={}", core_dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&core_dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", core_dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    files.sort_by_key(|path| (module_name(path) != BOOT_MODULE, module_name(path)));
    assert!(
        files.first().is_some_and(|p| module_name(p) == BOOT_MODULE),
        "python/pyfleet_core/boot.py is missing"
    );

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let mut rows = Vec::new();
    let mut manifest = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = module_name(path);
        let text = fs::read_to_string(path).expect("core module is UTF-8");
        let minified = minify::minify(&text)
            .unwrap_or_else(|e| panic!("cannot minify {}: {e}", path.display()));
        if name == "__init__" {
            continue; // boot creates the package itself
        }
        let filename = format!("pyfleet_core/{name}.py");
        let on_demand = text.starts_with(ON_DEMAND_MARKER);
        let compressed = if on_demand {
            let file = format!("core_module_{name}.zlib");
            fs::write(out.join(&file), compress(minified.source.as_bytes()))
                .expect("writing a module");
            format!("Some(include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\")))")
        } else {
            "None".to_string()
        };
        manifest.push_str(&format!(
            "    CoreModule {{ name: {name:?}, filename: {filename:?}, source_len: {}, minified_len: {}, \
             line_map: &{:?}, on_demand: {compressed} }},\n",
            text.len(),
            minified.source.len(),
            minified.encoded_line_map(),
        ));
        if !on_demand {
            rows.push([
                name.clone().into_bytes(),
                filename.into_bytes(),
                minified.source.clone().into_bytes(),
                minified.encoded_line_map(),
            ]);
        }
    }
    manifest.push(']');

    let table = marshal_table(&rows);
    let payload = compress(&table);
    fs::write(out.join("core_payload.zlib"), &payload).expect("writing the payload");
    fs::write(out.join("core_modules.rs"), manifest).expect("writing the manifest");
    fs::write(out.join("core_table_len.rs"), table.len().to_string()).expect("writing the size");
}

fn compress(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("compressing in memory");
    encoder.finish().expect("compressing in memory")
}

fn module_name(path: &Path) -> String {
    path.file_stem()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// The table as marshal data any supported Python loads: a tuple of 4-tuples of
/// byte strings ('(' count, then 's' length bytes).
fn marshal_table(rows: &[[Vec<u8>; 4]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(b'(');
    out.extend_from_slice(&(rows.len() as i32).to_le_bytes());
    for row in rows {
        out.push(b'(');
        out.extend_from_slice(&4i32.to_le_bytes());
        for field in row {
            out.push(b's');
            out.extend_from_slice(&(field.len() as i32).to_le_bytes());
            out.extend_from_slice(field);
        }
    }
    out
}
