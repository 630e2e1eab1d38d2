//! Bundles the GraphiQL browser assets into the binary so the IDE works with no internet.
//!
//! The assets are npm packages pinned by `api/graphiql/package-lock.json` and installed with
//! `npm ci` into `OUT_DIR` (once per build profile). Nothing third-party is kept in the repo.
//! `PARTNERGRAPH_GRAPHIQL_MODULES` may point at an existing `node_modules` for offline builds.
//! Without npm the server still builds, and its GraphiQL page says the assets are missing.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (file inside node_modules, name it is served under)
const ASSETS: [(&str, &str); 4] = [
    ("graphiql/graphiql.min.js", "graphiql.min.js"),
    ("graphiql/graphiql.min.css", "graphiql.min.css"),
    (
        "react/umd/react.production.min.js",
        "react.production.min.js",
    ),
    (
        "react-dom/umd/react-dom.production.min.js",
        "react-dom.production.min.js",
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=graphiql/package.json");
    println!("cargo:rerun-if-changed=graphiql/package-lock.json");
    println!("cargo:rerun-if-env-changed=PARTNERGRAPH_GRAPHIQL_MODULES");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let assets_dir = out_dir.join("graphiql-assets");
    fs::create_dir_all(&assets_dir).expect("create graphiql-assets in OUT_DIR");

    let bundled = match node_modules(&out_dir) {
        Ok(modules) => copy_assets(&modules, &assets_dir),
        Err(reason) => Err(reason),
    };
    if let Err(reason) = bundled {
        println!("cargo:warning=GraphiQL assets not bundled: {reason}");
        for (_, name) in ASSETS {
            fs::write(assets_dir.join(name), b"").expect("write empty placeholder asset");
        }
    }
    let flag = if bundled_ok(&assets_dir) {
        "true"
    } else {
        "false"
    };
    fs::write(out_dir.join("graphiql_bundled.rs"), flag).expect("write bundled flag");
}

fn node_modules(out_dir: &Path) -> Result<PathBuf, String> {
    if let Ok(dir) = env::var("PARTNERGRAPH_GRAPHIQL_MODULES") {
        return Ok(PathBuf::from(dir));
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let work = out_dir.join("graphiql-npm");
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let lock = fs::read(manifest.join("graphiql/package-lock.json")).map_err(|e| e.to_string())?;
    let installed_lock = work.join("node_modules/.package-lock.json");
    // npm ci is slow (seconds); skip it when this exact lock file is already installed.
    let stamp = work.join("installed.lock");
    if installed_lock.exists() && fs::read(&stamp).ok().as_deref() == Some(&lock[..]) {
        return Ok(work.join("node_modules"));
    }
    for file in ["package.json", "package-lock.json"] {
        fs::copy(manifest.join("graphiql").join(file), work.join(file))
            .map_err(|e| format!("copy {file}: {e}"))?;
    }
    let status = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&work)
        .status()
        .map_err(|e| format!("could not run npm ({e}); install Node.js and npm"))?;
    if !status.success() {
        return Err(format!("npm ci failed with {status}"));
    }
    fs::write(&stamp, &lock).map_err(|e| e.to_string())?;
    Ok(work.join("node_modules"))
}

fn copy_assets(modules: &Path, assets_dir: &Path) -> Result<(), String> {
    for (source, name) in ASSETS {
        fs::copy(modules.join(source), assets_dir.join(name))
            .map_err(|e| format!("{source}: {e}"))?;
    }
    Ok(())
}

fn bundled_ok(assets_dir: &Path) -> bool {
    ASSETS.iter().all(|(_, name)| {
        fs::metadata(assets_dir.join(name))
            .map(|m| m.len() > 0)
            .unwrap_or(false)
    })
}
