//! Binding a request's keyword arguments to a typed method's parameters the way Python binds
//! `endpoint.method(ctxt, **kwargs)` (spec §6.1: oslo calls the method with the request's
//! `args` as keyword arguments). The failures are the `TypeError`s a Python server would
//! raise, so a peer cannot tell a Rust endpoint from a Python one by its argument errors:
//!
//! * an unexpected name first: `add() got an unexpected keyword argument 'y'`;
//! * then every missing required parameter:
//!   `add() missing 2 required positional arguments: 'a' and 'b'`;
//! * then (Python has no types, this is ours) a value of the wrong type:
//!   `add() argument 'a': invalid type: string "x", expected i64`.
//!
//! Generated endpoints (`#[rpc_endpoint]`) use this; it is public for hand-written typed
//! endpoints too.

use serde::de::DeserializeOwned;

use super::{Failure, type_error};
use crate::wire::{Args, JsonError, RawJson};

/// A parameter of a typed method: its keyword name and whether a request must carry it
/// (`Option<T>` parameters may be absent and read as `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The keyword name.
    pub name: &'static str,
    /// Whether the argument must be present.
    pub required: bool,
}

/// A request's keyword arguments bound to a method's parameters.
#[derive(Debug)]
pub struct Kwargs {
    method: &'static str,
    values: Vec<(&'static str, Option<RawJson>)>,
}

impl Kwargs {
    /// Binds `args` to `params`, refusing unexpected and missing arguments with Python's
    /// `TypeError`s. When a name is sent twice, the last value wins (as in Python's
    /// `json.loads`).
    pub fn bind(method: &'static str, mut args: Args, params: &[Param]) -> Result<Kwargs, Failure> {
        if let Some(unexpected) = args
            .names()
            .find(|name| !params.iter().any(|param| param.name == *name))
        {
            return Err(type_error(format!(
                "{method}() got an unexpected keyword argument '{unexpected}'"
            )));
        }
        let mut values = Vec::with_capacity(params.len());
        let mut missing = Vec::new();
        for param in params {
            let mut value = None;
            while let Some(next) = args.take(param.name) {
                value = Some(next);
            }
            if value.is_none() && param.required {
                missing.push(param.name);
            }
            values.push((param.name, value));
        }
        if !missing.is_empty() {
            return Err(type_error(format!(
                "{method}() missing {} required positional argument{}: {}",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                python_name_list(&missing)
            )));
        }
        Ok(Kwargs { method, values })
    }

    /// Decodes the argument `name` into `T`; an absent argument decodes as JSON `null` (so
    /// an `Option` reads `None`). A value of the wrong type is a `TypeError` naming it.
    pub fn take<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Failure> {
        self.take_with(name, |raw| raw.deserialize_into())
    }

    /// [`take`](Self::take) with the decoder given (generated endpoints pass a function
    /// pointer, so they need no trait bound of their own).
    pub fn take_with<T>(
        &mut self,
        name: &str,
        decode: impl FnOnce(&RawJson) -> Result<T, JsonError>,
    ) -> Result<T, Failure> {
        let raw = self
            .values
            .iter_mut()
            .find(|(param, _)| *param == name)
            .and_then(|(_, value)| value.take())
            .unwrap_or_default();
        decode(&raw).map_err(|error| {
            type_error(format!(
                "{}() argument '{name}': {}",
                self.method,
                error.message()
            ))
        })
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: CPython's list of missing arguments.
fn python_name_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RemoteError;

    const ADD: &[Param] = &[
        Param {
            name: "a",
            required: true,
        },
        Param {
            name: "b",
            required: true,
        },
        Param {
            name: "c",
            required: false,
        },
    ];

    fn args(pairs: &[(&str, &str)]) -> Args {
        let mut args = Args::new();
        for (name, json) in pairs {
            args.push(*name, RawJson::from_string((*json).to_owned()).unwrap());
        }
        args
    }

    fn message(failure: &RemoteError) -> String {
        assert_eq!(
            (failure.class.as_str(), failure.module.as_str()),
            ("TypeError", "builtins")
        );
        failure.message.clone()
    }

    #[test]
    fn binds_and_decodes_typed_values() {
        let mut kwargs = Kwargs::bind("add", args(&[("b", "3"), ("a", "2")]), ADD).unwrap();
        assert_eq!(kwargs.take::<i64>("a").unwrap(), 2);
        assert_eq!(kwargs.take::<i64>("b").unwrap(), 3);
        assert_eq!(kwargs.take::<Option<i64>>("c").unwrap(), None);
    }

    #[test]
    fn unexpected_comes_before_missing() {
        let failure = Kwargs::bind("add", args(&[("y", "1")]), ADD).unwrap_err();
        assert_eq!(
            message(&failure),
            "add() got an unexpected keyword argument 'y'"
        );
    }

    #[test]
    fn missing_arguments_are_listed_like_python() {
        let failure = Kwargs::bind("add", args(&[("a", "1")]), ADD).unwrap_err();
        assert_eq!(
            message(&failure),
            "add() missing 1 required positional argument: 'b'"
        );
        let failure = Kwargs::bind("add", Args::new(), ADD).unwrap_err();
        assert_eq!(
            message(&failure),
            "add() missing 2 required positional arguments: 'a' and 'b'"
        );
        assert_eq!(python_name_list(&["a", "b", "c"]), "'a', 'b', and 'c'");
    }

    #[test]
    fn wrong_types_name_the_argument() {
        let mut kwargs = Kwargs::bind("add", args(&[("a", "\"x\""), ("b", "1")]), ADD).unwrap();
        assert_eq!(
            message(&kwargs.take::<i64>("a").unwrap_err()),
            "add() argument 'a': invalid type: string \"x\", expected i64"
        );
    }

    #[test]
    fn the_last_of_repeated_names_wins() {
        let mut kwargs =
            Kwargs::bind("add", args(&[("a", "1"), ("b", "2"), ("a", "5")]), ADD).unwrap();
        assert_eq!(kwargs.take::<i64>("a").unwrap(), 5);
    }
}
