//! Fetches the third-party browser assets of the pages quotagraph serves (the
//! playground's GraphiQL, React and ReactDOM; the dashboard's uPlot) from the npm registry, checks each tarball
//! against its pinned sha512 integrity, and leaves the few files the pages need in
//! `OUT_DIR`, where `src/http/playground.rs` and `src/http/dashboard.rs` embed them.
//!
//! Only with the cargo feature `playground-assets` (on by default): without it this
//! script fetches nothing and the server explains, on `GET /graphql`, how to get the
//! playground.
//!
//! A tarball is looked for, in order, in `OUT_DIR` (unpacked by an earlier build), in the
//! asset cache (`$QUOTAGRAPH_ASSET_CACHE`, default `quotagraph/npm` under
//! `$XDG_CACHE_HOME` or `~/.cache`: outside `target/`, so it survives `cargo clean`), in
//! npm's own content-addressed cache (`npm cache add graphiql@4.1.2 …` fills it), and only
//! then downloaded from `$QUOTAGRAPH_NPM_REGISTRY` (default `https://registry.npmjs.org`;
//! never when `CARGO_NET_OFFLINE=true`) and kept in the asset cache. Whatever its source,
//! a tarball whose hash differs from the pin is refused: nothing unchecked ever reaches
//! the binary.

use std::{
    env, fs,
    io::Read,
    path::{Path, PathBuf},
};

use base64::Engine as _;
use sha2::{Digest, Sha512};

/// One npm package: its pinned version, the sha512 `integrity` npm publishes for its
/// tarball, the files taken from it (path in the tarball, name in `OUT_DIR`), and the
/// page that serves them (each page serves its own packages only).
struct Package {
    page: Page,
    name: &'static str,
    version: &'static str,
    integrity: &'static str,
    files: &'static [(&'static str, &'static str)],
}

#[derive(Clone, Copy, PartialEq)]
enum Page {
    Playground,
    Dashboard,
}

const PACKAGES: &[Package] = &[
    Package {
        page: Page::Playground,
        name: "graphiql",
        version: "4.1.2",
        integrity: "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        files: &[
            ("package/graphiql.min.js", "graphiql.min.js"),
            ("package/graphiql.min.css", "graphiql.min.css"),
            ("package/LICENSE", "graphiql.LICENSE"),
        ],
    },
    Package {
        page: Page::Playground,
        name: "react",
        version: "18.3.1",
        integrity: "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        files: &[("package/umd/react.production.min.js", "react.production.min.js")],
    },
    Package {
        page: Page::Playground,
        name: "react-dom",
        version: "18.3.1",
        integrity: "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        files: &[("package/umd/react-dom.production.min.js", "react-dom.production.min.js")],
    },
    Package {
        page: Page::Dashboard,
        name: "uplot",
        version: "1.6.32",
        integrity: "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
        files: &[
            ("package/dist/uPlot.iife.min.js", "uPlot.iife.min.js"),
            ("package/dist/uPlot.min.css", "uPlot.min.css"),
            ("package/LICENSE", "uPlot.LICENSE"),
        ],
    },
];

/// The pages built from a template (template, name in `OUT_DIR`): each `{{file}}`
/// placeholder becomes the served, versioned name of that file of a package above.
const PAGES: &[(&str, &str)] = &[
    ("src/http/playground/index.html", "playground.html"),
    ("src/http/dashboard/index.html", "dashboard.html"),
];

const MAX_TARBALL_BYTES: u64 = 64 * 1024 * 1024;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if !cfg!(feature = "playground-assets") {
        return;
    }
    for (template, _) in PAGES {
        println!("cargo::rerun-if-changed={template}");
    }
    println!("cargo::rerun-if-env-changed=QUOTAGRAPH_NPM_REGISTRY");
    println!("cargo::rerun-if-env-changed=npm_config_cache");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cache = asset_cache();
    for package in PACKAGES {
        if let Err(error) = provide(package, &out, cache.as_deref()) {
            let cache = cache
                .as_deref()
                .map_or("(none: set QUOTAGRAPH_ASSET_CACHE)".into(), |dir| {
                    dir.display().to_string()
                });
            panic!(
                "cannot provide the browser asset package {name}@{version}: {error}\n\
                 The build fetches it once from the npm registry and keeps it in the asset cache \
                 {cache}. Without access to npm: set QUOTAGRAPH_NPM_REGISTRY to a mirror; or copy \
                 into that cache the tarball `npm pack {name}@{version}` writes on a machine that \
                 has access; or build without the playground: `cargo build --no-default-features` \
                 (docs/operator.md, \"Building without network access to npm\").",
                name = package.name,
                version = package.version,
            );
        }
    }
    write_pages(&out);
}

/// The asset cache: `$QUOTAGRAPH_ASSET_CACHE`, else `quotagraph/npm` under
/// `$XDG_CACHE_HOME` or `$HOME/.cache`; none when none of them is set.
fn asset_cache() -> Option<PathBuf> {
    let set = |name: &str| env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("QUOTAGRAPH_ASSET_CACHE") {
        return Some(dir);
    }
    // The XDG spec says to ignore a relative XDG_CACHE_HOME.
    let base = set("XDG_CACHE_HOME")
        .filter(|dir| dir.is_absolute())
        .or_else(|| set("HOME").map(|home| home.join(".cache")))?;
    Some(base.join("quotagraph").join("npm"))
}

/// The tarball's name as `npm pack` writes it (`@scope/name` → `scope-name-1.0.0.tgz`), so
/// that `npm pack` run in the asset cache fills it.
fn tarball_name(package: &Package) -> String {
    format!(
        "{}-{}.tgz",
        package.name.trim_start_matches('@').replace('/', "-"),
        package.version
    )
}

/// Leaves `package`'s files in `out`, from a verified tarball.
fn provide(package: &Package, out: &Path, cache: Option<&Path>) -> Result<(), String> {
    let stamp = out.join(format!("{}-{}.ok", package.name.replace('/', "+"), package.version));
    let extracted = package.files.iter().all(|(_, name)| out.join(name).is_file());
    if extracted && fs::read_to_string(&stamp).ok().as_deref() == Some(package.integrity) {
        return Ok(());
    }
    let expected = expected_digest(package.integrity)?;
    let matches = |bytes: &[u8]| Sha512::digest(bytes)[..] == expected[..];
    let cached = cache.map(|dir| dir.join(tarball_name(package)));
    let from_cache = cached.as_deref().and_then(|path| {
        let bytes = fs::read(path).ok()?;
        if matches(&bytes) {
            return Some(bytes);
        }
        println!(
            "cargo::warning={} does not match the pinned integrity: not used, replaced once fetched",
            path.display()
        );
        None
    });
    let tarball = match from_cache {
        Some(bytes) => bytes,
        None => {
            let from_npm_cache = npm_cache_path(&expected)
                .and_then(|path| fs::read(path).ok())
                .filter(|bytes| matches(bytes));
            let bytes = match from_npm_cache {
                Some(bytes) => bytes,
                None => {
                    let bytes = download(package)?;
                    if !matches(&bytes) {
                        return Err(format!(
                            "the downloaded tarball does not match the pinned integrity {}",
                            package.integrity
                        ));
                    }
                    bytes
                }
            };
            if let Some(path) = &cached {
                keep(path, &bytes);
            }
            bytes
        }
    };
    extract(package, &tarball, out)?;
    fs::write(&stamp, package.integrity).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// Stores a verified tarball in the asset cache. Written aside and renamed, so that a
/// concurrent build (another checkout shares the cache) never reads half a file. A cache
/// that cannot be written only costs a fetch next time: a warning, not a failed build.
fn keep(path: &Path, bytes: &[u8]) {
    let aside = path.with_extension(format!("tgz.{}.part", std::process::id()));
    let stored = path
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::write(&aside, bytes))
        .and_then(|()| fs::rename(&aside, path));
    if let Err(error) = stored {
        let _ = fs::remove_file(&aside);
        println!(
            "cargo::warning=cannot keep {} in the asset cache: {error}",
            path.display()
        );
    }
}

/// The 64 bytes a `sha512-…` integrity string stands for.
fn expected_digest(integrity: &str) -> Result<Vec<u8>, String> {
    let encoded = integrity.strip_prefix("sha512-").ok_or("the integrity is not sha512")?;
    let digest = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the integrity is not base64: {e}"))?;
    if digest.len() != 64 {
        return Err("the integrity is not 64 bytes".into());
    }
    Ok(digest)
}

/// Where npm's cache (cacache) keeps content with this sha512, if there is a cache.
fn npm_cache_path(digest: &[u8]) -> Option<PathBuf> {
    let root = match env::var_os("npm_config_cache") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env::var_os("HOME")?).join(".npm"),
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(
        root.join("_cacache/content-v2/sha512")
            .join(&hex[..2])
            .join(&hex[2..4])
            .join(&hex[4..]),
    )
}

fn download(package: &Package) -> Result<Vec<u8>, String> {
    // Cargo's own switch for "no network", which build scripts inherit (the `--offline`
    // flag does not reach them).
    if env::var("CARGO_NET_OFFLINE").is_ok_and(|v| v == "true") {
        return Err("no cache holds it, and CARGO_NET_OFFLINE=true forbids downloading it".into());
    }
    let registry = env::var("QUOTAGRAPH_NPM_REGISTRY").unwrap_or_else(|_| "https://registry.npmjs.org".into());
    let base = package.name.rsplit('/').next().unwrap_or(package.name);
    let url = format!(
        "{}/{}/-/{base}-{}.tgz",
        registry.trim_end_matches('/'),
        package.name,
        package.version
    );
    println!("cargo::warning=fetching {url} (once: then kept in the asset cache)");
    let tls = ureq::tls::TlsConfig::builder().root_certs(root_certs()).build();
    let agent = ureq::Agent::config_builder().tls_config(tls).build().new_agent();
    let response = agent.get(&url).call().map_err(|e| format!("GET {url}: {e}"))?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_TARBALL_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(bytes)
}

/// The system's CA bundle when there is one (it holds any corporate or proxy CA the
/// machine trusts, as npm uses it), else Mozilla's roots built into ureq.
fn root_certs() -> ureq::tls::RootCerts {
    let candidates = env::var_os("SSL_CERT_FILE").map(PathBuf::from).into_iter().chain(
        [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
        ]
        .into_iter()
        .map(PathBuf::from),
    );
    for path in candidates {
        let Ok(pem) = fs::read(&path) else { continue };
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
                _ => None,
            })
            .collect();
        if !certs.is_empty() {
            return ureq::tls::RootCerts::from(certs);
        }
    }
    ureq::tls::RootCerts::WebPki
}

/// Takes the wanted files out of the gzipped tarball; source-map comments are dropped
/// (the maps are not served).
fn extract(package: &Package, tarball: &[u8], out: &Path) -> Result<(), String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let mut found = vec![false; package.files.len()];
    for entry in archive.entries().map_err(|e| format!("bad tarball: {e}"))? {
        let mut entry = entry.map_err(|e| format!("bad tarball: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("bad tarball: {e}"))?
            .to_string_lossy()
            .into_owned();
        let Some(index) = package.files.iter().position(|(inside, _)| *inside == path) else {
            continue;
        };
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| format!("bad tarball entry {path}: {e}"))?;
        let name = package.files[index].1;
        fs::write(out.join(name), strip_source_map(content)).map_err(|e| format!("cannot write {name}: {e}"))?;
        found[index] = true;
    }
    match package.files.iter().zip(found).find(|(_, found)| !found) {
        Some(((inside, _), _)) => Err(format!("{inside} is not in the tarball")),
        None => Ok(()),
    }
}

/// Drops a trailing `//# sourceMappingURL=…` or `/*# sourceMappingURL=… */` line.
fn strip_source_map(mut content: Vec<u8>) -> Vec<u8> {
    while content.last().is_some_and(|b| b.is_ascii_whitespace()) {
        content.pop();
    }
    let start = content.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let last = &content[start..];
    if last.starts_with(b"//# sourceMappingURL=") || last.starts_with(b"/*# sourceMappingURL=") {
        content.truncate(start);
    }
    content.push(b'\n');
    content
}

/// Each page, with every vendor asset under a name carrying its version (so it can be
/// cached as immutable), and the tables of those assets for `src/http/playground.rs`
/// (`vendor_assets.rs`) and `src/http/dashboard.rs` (`dashboard_vendor_assets.rs`).
fn write_pages(out: &Path) {
    let mut served_names = Vec::new();
    for (page, file_name) in [
        (Page::Playground, "vendor_assets.rs"),
        (Page::Dashboard, "dashboard_vendor_assets.rs"),
    ] {
        let table = vendor_table(page, &mut served_names);
        fs::write(out.join(file_name), table).unwrap_or_else(|e| panic!("cannot write {file_name}: {e}"));
    }
    for (template, name) in PAGES {
        let mut page = fs::read_to_string(template).unwrap_or_else(|e| panic!("cannot read {template}: {e}"));
        for (file, served) in &served_names {
            page = page.replace(&format!("{{{{{file}}}}}"), served);
        }
        assert!(!page.contains("{{"), "an unknown placeholder is left in {template}");
        fs::write(out.join(name), page).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
    }
}

/// The `VENDOR` table of one page's packages; adds their (file, served name) pairs.
fn vendor_table(page: Page, served_names: &mut Vec<(&'static str, String)>) -> String {
    let mut table = String::from("/// Served name, content type, bytes.\nconst VENDOR: &[(&str, &str, &[u8])] = &[\n");
    for package in PACKAGES.iter().filter(|p| p.page == page) {
        for (_, file) in package.files {
            let served = versioned(file, package.version);
            let content_type = match file.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                _ => "text/plain; charset=utf-8",
            };
            // Relative to OUT_DIR as the compiler sees it, not this run's absolute path: a
            // build directory reused from another checkout then still finds its files.
            table.push_str(&format!(
                "    ({served:?}, {content_type:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\"))),\n"
            ));
            served_names.push((*file, served));
        }
    }
    table.push_str("];\n");
    table
}

/// `graphiql.min.js` at 4.1.2 → `graphiql-4.1.2.min.js`.
fn versioned(file: &str, version: &str) -> String {
    match file.split_once('.') {
        Some((stem, rest)) => format!("{stem}-{version}.{rest}"),
        None => format!("{file}-{version}"),
    }
}
