//! Fetches the playground's third-party assets (GraphiQL, React, ReactDOM) from the npm
//! registry, checks each tarball against its pinned sha512 integrity, and leaves the few
//! files the page needs in `OUT_DIR`, where `src/http/playground.rs` embeds them.
//!
//! A tarball is looked for, in order, in `OUT_DIR` (an earlier build), in npm's own
//! content-addressed cache (`npm cache add graphiql@4.1.2 …` fills it, so an offline
//! build works), and only then downloaded from `$QUOTAGRAPH_NPM_REGISTRY` (default
//! `https://registry.npmjs.org`). Whatever its source, a tarball whose hash differs from
//! the pin is refused: nothing unchecked ever reaches the binary.

use std::{
    env, fs,
    io::Read,
    path::{Path, PathBuf},
};

use base64::Engine as _;
use sha2::{Digest, Sha512};

/// One npm package: its pinned version, the sha512 `integrity` npm publishes for its
/// tarball, and the files taken from it (path in the tarball, name in `OUT_DIR`).
struct Package {
    name: &'static str,
    version: &'static str,
    integrity: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const PACKAGES: &[Package] = &[
    Package {
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
        name: "react",
        version: "18.3.1",
        integrity: "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        files: &[("package/umd/react.production.min.js", "react.production.min.js")],
    },
    Package {
        name: "react-dom",
        version: "18.3.1",
        integrity: "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        files: &[("package/umd/react-dom.production.min.js", "react-dom.production.min.js")],
    },
];

/// The page template; `{{name}}` placeholders become the versioned asset names.
const TEMPLATE: &str = "src/http/playground/index.html";

const MAX_TARBALL_BYTES: u64 = 64 * 1024 * 1024;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={TEMPLATE}");
    println!("cargo::rerun-if-env-changed=QUOTAGRAPH_NPM_REGISTRY");
    println!("cargo::rerun-if-env-changed=npm_config_cache");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for package in PACKAGES {
        if let Err(error) = provide(package, &out) {
            panic!(
                "cannot provide the playground asset package {}@{}: {error}\n\
                 (the build fetches it once from the npm registry; offline, run \
                 `npm cache add {}@{}` while online, or set QUOTAGRAPH_NPM_REGISTRY to a mirror)",
                package.name, package.version, package.name, package.version
            );
        }
    }
    write_page(&out);
}

/// Leaves `package`'s files in `out`, from a verified tarball.
fn provide(package: &Package, out: &Path) -> Result<(), String> {
    let stamp = out.join(format!("{}-{}.ok", package.name, package.version));
    let extracted = package.files.iter().all(|(_, name)| out.join(name).is_file());
    if extracted && fs::read_to_string(&stamp).ok().as_deref() == Some(package.integrity) {
        return Ok(());
    }
    let expected = expected_digest(package.integrity)?;
    let cached = out.join(format!("{}-{}.tgz", package.name, package.version));
    let verified = |path: &Path| {
        fs::read(path)
            .ok()
            .filter(|bytes| Sha512::digest(bytes)[..] == expected[..])
    };
    let tarball = match verified(&cached) {
        Some(bytes) => bytes,
        None => {
            let bytes = match npm_cache_path(&expected).and_then(|path| verified(&path)) {
                Some(bytes) => bytes,
                None => {
                    let bytes = download(package)?;
                    if Sha512::digest(&bytes)[..] != expected[..] {
                        return Err(format!(
                            "the downloaded tarball does not match the pinned integrity {}",
                            package.integrity
                        ));
                    }
                    bytes
                }
            };
            fs::write(&cached, &bytes).map_err(|e| format!("cannot cache the tarball: {e}"))?;
            bytes
        }
    };
    extract(package, &tarball, out)?;
    fs::write(&stamp, package.integrity).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
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
    let registry = env::var("QUOTAGRAPH_NPM_REGISTRY").unwrap_or_else(|_| "https://registry.npmjs.org".into());
    let base = package.name.rsplit('/').next().unwrap_or(package.name);
    let url = format!(
        "{}/{}/-/{base}-{}.tgz",
        registry.trim_end_matches('/'),
        package.name,
        package.version
    );
    println!("cargo::warning=fetching {url} (once; cached in OUT_DIR)");
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

/// The page, with each vendor asset under a name carrying its version (so it can be
/// cached as immutable), and the table of those assets for `src/http/playground.rs`.
fn write_page(out: &Path) {
    let mut page = fs::read_to_string(TEMPLATE).expect("the playground page template");
    let mut table = String::from("/// Served name, content type, bytes.\nconst VENDOR: &[(&str, &str, &[u8])] = &[\n");
    for package in PACKAGES {
        for (_, file) in package.files {
            let served = versioned(file, package.version);
            page = page.replace(&format!("{{{{{file}}}}}"), &served);
            let content_type = match file.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                _ => "text/plain; charset=utf-8",
            };
            let path = out.join(file);
            table.push_str(&format!(
                "    ({served:?}, {content_type:?}, include_bytes!({path:?})),\n"
            ));
        }
    }
    table.push_str("];\n");
    assert!(!page.contains("{{"), "an unknown placeholder is left in {TEMPLATE}");
    fs::write(out.join("index.html"), page).expect("write index.html");
    fs::write(out.join("playground_assets.rs"), table).expect("write playground_assets.rs");
}

/// `graphiql.min.js` at 4.1.2 → `graphiql-4.1.2.min.js`.
fn versioned(file: &str, version: &str) -> String {
    match file.split_once('.') {
        Some((stem, rest)) => format!("{stem}-{version}.{rest}"),
        None => format!("{file}-{version}"),
    }
}
