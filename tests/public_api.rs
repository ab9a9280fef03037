//! The public API of the facade, `oslo_rpc`, pinned in `public-api/oslo-rpc.txt`: every item a
//! user can name (modules, types, fields, variants, functions with their signatures, trait
//! impls), one per line, so a change of the API shows in review as a change of that file.
//!
//! The listing is read from rustdoc's JSON output, which needs the nightly toolchain
//! (`rustup toolchain install nightly`); the test fails, saying so, when it is missing.
//! rustdoc JSON does not inline items re-exported from other crates, so the JSON of the
//! runtime and version crates is built too and the facade's re-exports are followed into
//! them. Hidden items (`#[doc(hidden)]`, such as `__private`) are not listed: they are not
//! part of the API.
//!
//! After an intended change of the API: `OSLO_RPC_BLESS_PUBLIC_API=1 cargo test --test
//! public_api`, then read the diff of `public-api/oslo-rpc.txt`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crates whose JSON is read: the facade and the crates it re-exports items of.
const CRATES: [(&str, &str); 3] = [
    ("oslo-rpc", "oslo_rpc"),
    ("oslo-rpc-runtime", "oslo_rpc_runtime"),
    ("oslo-rpc-version", "oslo_rpc_version"),
];

#[test]
fn public_api_matches_the_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = build_json(root);
    let listing = Listing::new(&docs).render("oslo_rpc");
    let snapshot = root.join("public-api/oslo-rpc.txt");
    if std::env::var_os("OSLO_RPC_BLESS_PUBLIC_API").is_some() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, &listing).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    if expected != listing {
        let old: BTreeSet<&str> = expected.lines().collect();
        let new: BTreeSet<&str> = listing.lines().collect();
        let mut diff = String::new();
        for line in old.difference(&new) {
            diff.push_str(&format!("- {line}\n"));
        }
        for line in new.difference(&old) {
            diff.push_str(&format!("+ {line}\n"));
        }
        panic!(
            "the public API of oslo_rpc differs from {}:\n{diff}\nIf the change is intended, \
             run `OSLO_RPC_BLESS_PUBLIC_API=1 cargo test --test public_api` and commit the file.",
            snapshot.display()
        );
    }
}

/// Runs `cargo +nightly rustdoc --output-format json` for each crate, in a target
/// directory of its own (the outer `cargo test` holds the lock of `target/`).
fn build_json(root: &Path) -> HashMap<String, Value> {
    let target_dir = root.join("target/public-api");
    let mut docs = HashMap::new();
    for (package, crate_name) in CRATES {
        let mut command = Command::new("cargo");
        command
            .current_dir(root)
            .args([
                "+nightly",
                "rustdoc",
                "--quiet",
                "--lib",
                "--package",
                package,
            ])
            .arg("--target-dir")
            .arg(&target_dir)
            .args(["--", "-Z", "unstable-options", "--output-format", "json"]);
        // What the outer cargo set for itself must not choose the toolchain or flags here.
        for var in [
            "RUSTUP_TOOLCHAIN",
            "RUSTC",
            "RUSTDOC",
            "RUSTC_WRAPPER",
            "RUSTFLAGS",
            "RUSTDOCFLAGS",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_ENCODED_RUSTDOCFLAGS",
        ] {
            command.env_remove(var);
        }
        let output = command.output().unwrap_or_else(|error| {
            panic!("cannot run `cargo +nightly rustdoc` (is rustup's cargo on PATH?): {error}")
        });
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("is not installed") || stderr.contains("no such command") {
                panic!(
                    "the public API test needs the nightly toolchain for rustdoc's JSON output: \
                     `rustup toolchain install nightly --profile minimal`\n{stderr}"
                );
            }
            panic!("`cargo +nightly rustdoc -p {package}` failed:\n{stderr}");
        }
        let file: PathBuf = target_dir.join("doc").join(format!("{crate_name}.json"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        let json: Value = serde_json::from_str(&text).unwrap();
        docs.insert(crate_name.to_owned(), json);
    }
    docs
}

/// Walks the facade's modules and follows re-exports into the other crates' JSON.
struct Listing<'a> {
    docs: &'a HashMap<String, Value>,
    /// Per crate: the path of each of its own items (from its `paths` table) to its id.
    by_path: HashMap<&'a str, HashMap<Vec<String>, String>>,
    lines: BTreeSet<String>,
    visiting: HashSet<(String, String)>,
    /// Per item but modules: its shortest public path, where it is listed in full; at its
    /// other paths (the prelude, a module re-exporting a root item) it is one `pub use` line.
    canonical: HashMap<(String, String), String>,
    /// The first walk only fills `canonical`.
    collecting: bool,
}

impl<'a> Listing<'a> {
    fn new(docs: &'a HashMap<String, Value>) -> Self {
        let mut by_path = HashMap::new();
        for (name, doc) in docs {
            let mut map = HashMap::new();
            for (id, entry) in doc["paths"].as_object().unwrap() {
                if entry["crate_id"] == 0 {
                    let path = entry["path"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect();
                    map.insert(path, id.clone());
                }
            }
            by_path.insert(name.as_str(), map);
        }
        Listing {
            docs,
            by_path,
            lines: BTreeSet::new(),
            visiting: HashSet::new(),
            canonical: HashMap::new(),
            collecting: false,
        }
    }

    fn render(mut self, crate_name: &str) -> String {
        let doc = &self.docs[crate_name];
        let root = doc["root"].to_string();
        self.collecting = true;
        self.item(crate_name, &root, crate_name.to_owned());
        self.collecting = false;
        self.lines.clear();
        self.item(crate_name, &root, crate_name.to_owned());
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    fn get(&self, krate: &str, id: &str) -> Option<&'a Value> {
        self.docs[krate]["index"].get(id)
    }

    /// The crate and id of the item that `id` (not in `krate`'s index) names in another
    /// crate, when that crate's JSON was built; else the path rustdoc gives for it.
    fn resolve_external(&self, krate: &str, id: &str) -> Result<(String, String), String> {
        let doc = &self.docs[krate];
        let Some(entry) = doc["paths"].get(id) else {
            return Err(format!("<unknown item {id}>"));
        };
        let path: Vec<String> = entry["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        let crate_id = entry["crate_id"].to_string();
        let other = doc["external_crates"][&crate_id]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let found = self
            .by_path
            .get(other.as_str())
            .and_then(|map| map.get(&path));
        match found {
            Some(id) => Ok((other, id.clone())),
            None => Err(format!(
                "{} {}",
                entry["kind"].as_str().unwrap_or("item"),
                path.join("::")
            )),
        }
    }

    /// Lists an item of `krate` under the public path `path` (a re-export may rename it).
    fn item(&mut self, krate: &str, id: &str, path: String) {
        let Some(item) = self.get(krate, id) else {
            match self.resolve_external(krate, id) {
                Ok((other, other_id)) => self.item(&other, &other_id, path),
                Err(what) => {
                    self.lines.insert(format!("pub use {path} = {what}"));
                }
            }
            return;
        };
        let key = (krate.to_owned(), id.to_owned());
        let is_module = item["inner"].get("module").is_some();
        if is_module && !self.visiting.insert(key.clone()) {
            // A module inside itself (a re-export of an ancestor): listed once.
            return;
        }
        if !is_module {
            if self.collecting {
                let shorter = |old: &String| {
                    (path.matches("::").count(), &path) < (old.matches("::").count(), old)
                };
                if self.canonical.get(&key).is_none_or(shorter) {
                    self.canonical.insert(key, path);
                }
                return;
            }
            if let Some(canonical) = self.canonical.get(&key)
                && *canonical != path
            {
                self.lines.insert(format!("pub use {path} = {canonical}"));
                return;
            }
        }
        let inner = &item["inner"];
        let attrs = attributes(item);
        let (kind, body) = inner.as_object().unwrap().iter().next().unwrap();
        match kind.as_str() {
            "module" => {
                self.lines.insert(format!("pub mod {path}"));
                for child in body["items"].as_array().unwrap() {
                    self.module_item(krate, &child.to_string(), &path);
                }
                self.visiting.remove(&key);
            }
            "struct" => {
                self.lines.insert(format!(
                    "{attrs}pub struct {path}{}",
                    generics(&body["generics"])
                ));
                let fields = &body["kind"];
                if let Some(plain) = fields.get("plain") {
                    for field in plain["fields"].as_array().unwrap() {
                        self.field(krate, &field.to_string(), &path);
                    }
                } else if let Some(tuple) = fields.get("tuple") {
                    for (n, field) in tuple.as_array().unwrap().iter().enumerate() {
                        if let Some(field) = field.as_u64() {
                            let field = self.get(krate, &field.to_string()).unwrap();
                            self.lines.insert(format!(
                                "pub field {path}::{n}: {}",
                                ty(&field["inner"]["struct_field"])
                            ));
                        }
                    }
                }
                self.impls(krate, &body["impls"], &path);
            }
            "enum" => {
                self.lines.insert(format!(
                    "{attrs}pub enum {path}{}",
                    generics(&body["generics"])
                ));
                for variant in body["variants"].as_array().unwrap() {
                    let variant = self.get(krate, &variant.to_string()).unwrap();
                    let vname = variant["name"].as_str().unwrap();
                    let vattrs = attributes(variant);
                    let shape = match &variant["inner"]["variant"]["kind"] {
                        Value::String(_) => String::new(),
                        kind if kind.get("tuple").is_some() => {
                            let types: Vec<String> = kind["tuple"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|f| match f.as_u64() {
                                    Some(f) => ty(&self.get(krate, &f.to_string()).unwrap()
                                        ["inner"]["struct_field"]),
                                    None => "_".to_owned(),
                                })
                                .collect();
                            format!("({})", types.join(", "))
                        }
                        kind => {
                            let fields: Vec<String> = kind["struct"]["fields"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|f| {
                                    let f = self.get(krate, &f.to_string()).unwrap();
                                    format!(
                                        "{}: {}",
                                        f["name"].as_str().unwrap(),
                                        ty(&f["inner"]["struct_field"])
                                    )
                                })
                                .collect();
                            format!(" {{ {} }}", fields.join(", "))
                        }
                    };
                    self.lines
                        .insert(format!("{vattrs}pub variant {path}::{vname}{shape}"));
                }
                self.impls(krate, &body["impls"], &path);
            }
            "trait" => {
                self.lines.insert(format!(
                    "{attrs}pub trait {path}{}",
                    generics(&body["generics"])
                ));
                for member in body["items"].as_array().unwrap() {
                    self.member(krate, &member.to_string(), &path);
                }
            }
            "function" => {
                self.lines
                    .insert(format!("{attrs}{}", function(&path, body)));
            }
            "constant" => {
                self.lines
                    .insert(format!("pub const {path}: {}", ty(&body["type"])));
            }
            "static" => {
                self.lines
                    .insert(format!("pub static {path}: {}", ty(&body["type"])));
            }
            "type_alias" => {
                self.lines.insert(format!(
                    "pub type {path}{} = {}",
                    generics(&body["generics"]),
                    ty(&body["type"])
                ));
            }
            "proc_macro" => {
                self.lines.insert(format!(
                    "pub macro {path} ({})",
                    body["kind"].as_str().unwrap()
                ));
            }
            "macro" => {
                self.lines.insert(format!("pub macro {path}"));
            }
            other => {
                self.lines.insert(format!("pub {other} {path}"));
            }
        }
    }

    /// One entry of a module: an item, or a re-export (`use`), followed.
    fn module_item(&mut self, krate: &str, id: &str, module: &str) {
        let item = self.get(krate, id).unwrap();
        if item["visibility"] != "public" {
            return;
        }
        if let Some(import) = item["inner"].get("use") {
            let Some(target) = import["id"].as_u64().map(|t| t.to_string()) else {
                // A re-export of a primitive or of what rustdoc cannot see.
                self.lines.insert(format!(
                    "pub use {module}::{}",
                    import["name"].as_str().unwrap()
                ));
                return;
            };
            if import["is_glob"] == true {
                self.glob(krate, &target, module);
            } else {
                let name = import["name"].as_str().unwrap();
                self.item(krate, &target, format!("{module}::{name}"));
            }
            return;
        }
        let name = item["name"].as_str().unwrap();
        self.item(krate, id, format!("{module}::{name}"));
    }

    /// `pub use other::*`: the public items of `other` listed as if declared in `module`.
    fn glob(&mut self, krate: &str, id: &str, module: &str) {
        let (krate, id) = match self.get(krate, id) {
            Some(_) => (krate.to_owned(), id.to_owned()),
            None => match self.resolve_external(krate, id) {
                Ok(found) => found,
                Err(what) => {
                    self.lines.insert(format!("pub use {module}::* = {what}"));
                    return;
                }
            },
        };
        let item = self.get(&krate, &id).unwrap();
        let Some(inner) = item["inner"].get("module") else {
            // A glob of an enum's variants.
            self.lines.insert(format!("pub use {module}::* (variants)"));
            return;
        };
        for child in inner["items"].as_array().unwrap() {
            self.module_item(&krate, &child.to_string(), module);
        }
    }

    fn field(&mut self, krate: &str, id: &str, owner: &str) {
        let field = self.get(krate, id).unwrap();
        if field["visibility"] != "public" {
            return;
        }
        self.lines.insert(format!(
            "pub field {owner}::{}: {}",
            field["name"].as_str().unwrap(),
            ty(&field["inner"]["struct_field"])
        ));
    }

    /// A trait's or an inherent impl's associated item.
    fn member(&mut self, krate: &str, id: &str, owner: &str) {
        let member = self.get(krate, id).unwrap();
        let name = member["name"].as_str().unwrap_or("_");
        let path = format!("{owner}::{name}");
        let attrs = attributes(member);
        let (kind, body) = member["inner"].as_object().unwrap().iter().next().unwrap();
        let line = match kind.as_str() {
            "function" => function(&path, body),
            "assoc_const" => format!("pub const {path}: {}", ty(&body["type"])),
            "assoc_type" => format!("pub type {path}"),
            "constant" => format!("pub const {path}: {}", ty(&body["type"])),
            other => format!("pub {other} {path}"),
        };
        self.lines.insert(format!("{attrs}{line}"));
    }

    /// Inherent methods, and the traits a type implements (auto traits and blanket impls
    /// left out).
    fn impls(&mut self, krate: &str, impls: &Value, owner: &str) {
        for id in impls.as_array().unwrap() {
            let imp = &self.get(krate, &id.to_string()).unwrap()["inner"]["impl"];
            if imp["is_synthetic"] == true || !imp["blanket_impl"].is_null() {
                continue;
            }
            if imp["trait"].is_null() {
                for member in imp["items"].as_array().unwrap() {
                    let member_item = self.get(krate, &member.to_string()).unwrap();
                    if member_item["visibility"] == "public" {
                        self.member(krate, &member.to_string(), owner);
                    }
                }
            } else {
                let negative = if imp["is_negative"] == true { "!" } else { "" };
                self.lines.insert(format!(
                    "impl{} {negative}{} for {owner}",
                    generics(&imp["generics"]),
                    path_ty(&imp["trait"])
                ));
            }
        }
    }
}

fn attributes(item: &Value) -> String {
    let mut out = String::new();
    let text = item["attrs"].to_string();
    if text.contains("non_exhaustive") {
        out.push_str("#[non_exhaustive] ");
    }
    if !item["deprecation"].is_null() {
        out.push_str("#[deprecated] ");
    }
    out
}

fn function(path: &str, body: &Value) -> String {
    let header = &body["header"];
    let mut out = String::from("pub ");
    if header["is_const"] == true {
        out.push_str("const ");
    }
    if header["is_async"] == true {
        out.push_str("async ");
    }
    if header["is_unsafe"] == true {
        out.push_str("unsafe ");
    }
    out.push_str("fn ");
    out.push_str(path);
    out.push_str(&generics(&body["generics"]));
    let inputs: Vec<String> = body["sig"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| {
            let name = input[0].as_str().unwrap();
            let t = ty(&input[1]);
            match (name, t.as_str()) {
                ("self", "Self") => "self".to_owned(),
                ("self", "&Self") => "&self".to_owned(),
                ("self", "&mut Self") => "&mut self".to_owned(),
                _ => format!("{name}: {t}"),
            }
        })
        .collect();
    out.push_str(&format!("({})", inputs.join(", ")));
    if !body["sig"]["output"].is_null() {
        out.push_str(&format!(" -> {}", ty(&body["sig"]["output"])));
    }
    let wheres = where_predicates(&body["generics"]);
    if !wheres.is_empty() {
        out.push_str(&format!(" where {wheres}"));
    }
    out
}

fn generics(generics: &Value) -> String {
    let params: Vec<String> = generics["params"]
        .as_array()
        .map(|params| params.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|p| p["kind"]["type"]["is_synthetic"] != true)
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_owned();
            let kind = &p["kind"];
            if let Some(t) = kind.get("type") {
                let bounds = bounds(&t["bounds"]);
                if bounds.is_empty() {
                    name
                } else {
                    format!("{name}: {bounds}")
                }
            } else if let Some(c) = kind.get("const") {
                format!("const {name}: {}", ty(&c["type"]))
            } else {
                name
            }
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn where_predicates(generics: &Value) -> String {
    let predicates: Vec<String> = generics["where_predicates"]
        .as_array()
        .map(|p| p.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let b = p.get("bound_predicate")?;
            Some(format!("{}: {}", ty(&b["type"]), bounds(&b["bounds"])))
        })
        .collect();
    predicates.join(", ")
}

fn bounds(bounds: &Value) -> String {
    let list: Vec<String> = bounds
        .as_array()
        .map(|b| b.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|b| {
            if let Some(t) = b.get("trait_bound") {
                let modifier = if t["modifier"] == "maybe" { "?" } else { "" };
                format!("{modifier}{}", path_ty(&t["trait"]))
            } else if let Some(l) = b.get("outlives") {
                l.as_str().unwrap_or("'_").to_owned()
            } else {
                "_".to_owned()
            }
        })
        .collect();
    list.join(" + ")
}

/// A path type by its last segment (`std::time::Duration` and `Duration` are one type; the
/// listing should not change when an import does) and its generic arguments.
fn path_ty(path: &Value) -> String {
    let name = path["path"].as_str().unwrap_or("_");
    let name = name.rsplit("::").next().unwrap();
    let args = &path["args"];
    if let Some(angle) = args.get("angle_bracketed") {
        let mut parts: Vec<String> = angle["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                if let Some(t) = a.get("type") {
                    ty(t)
                } else if let Some(l) = a.get("lifetime") {
                    l.as_str().unwrap_or("'_").to_owned()
                } else {
                    "_".to_owned()
                }
            })
            .collect();
        for c in angle["constraints"].as_array().unwrap() {
            let cname = c["name"].as_str().unwrap_or("_");
            if let Some(t) = c["binding"].get("equality").and_then(|e| e.get("type")) {
                parts.push(format!("{cname} = {}", ty(t)));
            } else {
                parts.push(format!("{cname}: {}", bounds(&c["binding"]["constraint"])));
            }
        }
        if parts.is_empty() {
            name.to_owned()
        } else {
            format!("{name}<{}>", parts.join(", "))
        }
    } else if let Some(paren) = args.get("parenthesized") {
        let inputs: Vec<String> = paren["inputs"].as_array().unwrap().iter().map(ty).collect();
        let output = if paren["output"].is_null() {
            String::new()
        } else {
            format!(" -> {}", ty(&paren["output"]))
        };
        format!("{name}({}){output}", inputs.join(", "))
    } else {
        name.to_owned()
    }
}

fn ty(t: &Value) -> String {
    let Some((kind, body)) = t.as_object().and_then(|o| o.iter().next()) else {
        return "_".to_owned();
    };
    match kind.as_str() {
        "resolved_path" => path_ty(body),
        "generic" | "primitive" => body.as_str().unwrap_or("_").to_owned(),
        "borrowed_ref" => {
            let lifetime = body["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let mutable = if body["is_mutable"] == true {
                "mut "
            } else {
                ""
            };
            format!("&{lifetime}{mutable}{}", ty(&body["type"]))
        }
        "raw_pointer" => {
            let mutable = if body["is_mutable"] == true {
                "mut"
            } else {
                "const"
            };
            format!("*{mutable} {}", ty(&body["type"]))
        }
        "tuple" => {
            let parts: Vec<String> = body.as_array().unwrap().iter().map(ty).collect();
            format!("({})", parts.join(", "))
        }
        "slice" => format!("[{}]", ty(body)),
        "array" => format!(
            "[{}; {}]",
            ty(&body["type"]),
            body["len"].as_str().unwrap_or("_")
        ),
        "impl_trait" => format!("impl {}", bounds(body)),
        "dyn_trait" => {
            let traits: Vec<String> = body["traits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| path_ty(&p["trait"]))
                .collect();
            let lifetime = body["lifetime"]
                .as_str()
                .map(|l| format!(" + {l}"))
                .unwrap_or_default();
            format!("dyn {}{lifetime}", traits.join(" + "))
        }
        "qualified_path" => {
            let name = body["name"].as_str().unwrap_or("_");
            let self_type = ty(&body["self_type"]);
            let trait_ = if body["trait"].is_null() {
                String::new()
            } else {
                path_ty(&body["trait"])
            };
            if trait_.is_empty() {
                // `D::Error`, written without the trait.
                format!("{self_type}::{name}")
            } else {
                format!("<{self_type} as {trait_}>::{name}")
            }
        }
        "function_pointer" => {
            let inputs: Vec<String> = body["sig"]["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| ty(&i[1]))
                .collect();
            let output = if body["sig"]["output"].is_null() {
                String::new()
            } else {
                format!(" -> {}", ty(&body["sig"]["output"]))
            };
            format!("fn({}){output}", inputs.join(", "))
        }
        "infer" => "_".to_owned(),
        other => format!("<{other}>"),
    }
}
