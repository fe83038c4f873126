//! The layers point one way (docs/design.md §11): what a layer may not name, checked on
//! the source, so a shortcut across layers fails here rather than in review.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}

/// The lines of the Rust files under `src/<layer>` (or the file `src/<layer>.rs`) that
/// name one of `forbidden`, comments left out.
fn naming(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let dir = src.join(layer);
    let files = if dir.is_dir() {
        rust_files(&dir)
    } else {
        vec![src.join(format!("{layer}.rs"))]
    };
    assert!(!files.is_empty(), "no source under src/{layer}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if forbidden.iter().any(|name| code.contains(name)) {
                found.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn graphql_and_http_reach_the_store_only_through_the_service_layer() {
    for layer in ["graphql", "http"] {
        let found = naming(layer, &["store::", "crate::store", "sea_orm"]);
        assert!(found.is_empty(), "src/{layer} names the store:\n{}", found.join("\n"));
    }
}

#[test]
fn the_service_layer_answers_no_request_itself() {
    let found = naming("service", &["async_graphql", "axum", "crate::graphql", "crate::http"]);
    assert!(
        found.is_empty(),
        "src/service names an outer layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn config_is_a_leaf_every_layer_reads() {
    let found = naming(
        "config",
        &[
            "crate::graphql",
            "crate::http",
            "crate::service",
            "crate::store",
            "crate::events",
            "crate::startup",
        ],
    );
    assert!(
        found.is_empty(),
        "src/config.rs names another layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_domain_names_no_io_crate() {
    let found = naming("domain", &["sea_orm", "async_graphql", "axum", "tokio", "reqwest"]);
    assert!(found.is_empty(), "src/domain names an I/O crate:\n{}", found.join("\n"));
}

#[test]
fn the_store_decides_nothing_about_callers() {
    let found = naming(
        "store",
        &["crate::service", "crate::graphql", "crate::http", "access::Actor"],
    );
    assert!(
        found.is_empty(),
        "src/store names an outer layer:\n{}",
        found.join("\n")
    );
}
