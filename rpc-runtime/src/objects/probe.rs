//! What generated code asks about types it cannot see into: does this field hold an object
//! (whose changes make the field changed), which objects does this type contain (for
//! schemas). A derive sees type spellings only, so these are answered by autoref
//! specialization on concrete types: [`Probe`]/[`TypeProbe`] implement the `Object*` trait
//! when the type holds an object, and `&Probe`/`&TypeProbe` the fallback trait, which
//! method lookup reaches only when the first does not apply. Generated code is never
//! generic (the derive and `#[rpc_endpoint]` refuse generics), so the choice is made on the
//! real type. (`Box<T>` is left out: it is a fundamental type, so a downstream crate could
//! implement the trait for it and the impls would overlap.)

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use super::{Field, VersionedObject};
use crate::schema::ObjectSchema;

/// A field's value, asked whether it is an object with changes.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Answer for values holding an object directly (oslo's `ObjectField`).
pub trait ObjectValue {
    /// Whether the value is an object that has changes.
    fn object_changed(&self) -> bool;
}

/// Answer for every other value.
pub trait PlainValue {
    /// Never.
    fn object_changed(&self) -> bool {
        false
    }
}

impl<T: ?Sized> PlainValue for &Probe<'_, T> {}

impl<T: VersionedObject> ObjectValue for Probe<'_, T> {
    fn object_changed(&self) -> bool {
        !self.0.changes().is_empty()
    }
}

impl<T: VersionedObject> ObjectValue for Probe<'_, Option<T>> {
    fn object_changed(&self) -> bool {
        self.0.as_ref().is_some_and(|o| !o.changes().is_empty())
    }
}

impl<T: VersionedObject> ObjectValue for Probe<'_, Field<T>> {
    fn object_changed(&self) -> bool {
        self.0.get().is_some_and(|o| !o.changes().is_empty())
    }
}

impl<T: VersionedObject> ObjectValue for Probe<'_, Field<Option<T>>> {
    fn object_changed(&self) -> bool {
        matches!(self.0, Field::Set(Some(o)) if !o.changes().is_empty())
    }
}

/// A field's value, told to forget the changes of the objects it holds (oslo's
/// `obj_reset_changes(recursive=True)`: objects and lists of objects).
pub struct ProbeMut<'a, T: ?Sized>(pub &'a mut T);

/// Answer for values holding objects.
pub trait ObjectValueMut {
    /// Resets the changes of every object held, recursively.
    fn reset_objects(&mut self);
}

/// Answer for every other value.
pub trait PlainValueMut {
    /// Nothing to reset.
    fn reset_objects(&mut self) {}
}

impl<T: ?Sized> PlainValueMut for &mut ProbeMut<'_, T> {}

fn reset_all<'a, T: VersionedObject + 'a>(objects: impl IntoIterator<Item = &'a mut T>) {
    for object in objects {
        object.reset_changes_recursive();
    }
}

macro_rules! resettable {
    ($($container:ty => |$value:ident| $objects:expr),* $(,)?) => {
        $(
            impl<T: VersionedObject> ObjectValueMut for ProbeMut<'_, $container> {
                fn reset_objects(&mut self) {
                    let $value = &mut *self.0;
                    reset_all($objects);
                }
            }
        )*
    };
}

resettable!(
    T => |value| Some(value),
    Option<T> => |value| value.as_mut(),
    Field<T> => |value| value.get_mut(),
    Field<Option<T>> => |value| value.get_mut().and_then(Option::as_mut),
    Vec<T> => |value| value.iter_mut(),
    Option<Vec<T>> => |value| value.iter_mut().flatten(),
    Field<Vec<T>> => |value| value.get_mut().into_iter().flatten(),
);

/// A type, asked which objects it holds.
pub struct TypeProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> TypeProbe<T> {
    /// The probe of `T`.
    pub const fn new() -> Self {
        TypeProbe(PhantomData)
    }
}

impl<T: ?Sized> Default for TypeProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Answer for types holding objects.
pub trait ObjectType {
    /// Adds the schemas of the objects the type holds (each name once).
    fn collect_objects(&self, out: &mut Vec<ObjectSchema>);
}

/// Answer for every other type.
pub trait PlainType {
    /// Nothing.
    fn collect_objects(&self, _out: &mut Vec<ObjectSchema>) {}
}

impl<T: ?Sized> PlainType for &TypeProbe<T> {}

/// Adds `O`'s schema and those of its children, unless already there.
pub fn collect<O: VersionedObject>(out: &mut Vec<ObjectSchema>) {
    if out.iter().any(|schema| schema.name == O::INFO.name) {
        return;
    }
    out.push(O::schema());
    O::__collect_children(out);
}

macro_rules! object_containers {
    ($($container:ty),* $(,)?) => {
        $(
            impl<T: VersionedObject> ObjectType for TypeProbe<$container> {
                fn collect_objects(&self, out: &mut Vec<ObjectSchema>) {
                    collect::<T>(out);
                }
            }
        )*
    };
}

object_containers!(
    T,
    Option<T>,
    Vec<T>,
    Option<Vec<T>>,
    Field<T>,
    Field<Option<T>>,
    Field<Vec<T>>,
    Field<Option<Vec<T>>>,
    HashMap<String, T>,
    BTreeMap<String, T>,
    Option<HashMap<String, T>>,
    Option<BTreeMap<String, T>>,
    Field<HashMap<String, T>>,
    Field<BTreeMap<String, T>>,
);
