//! The oslo.messaging wire format: the 2.0 envelope, requests, replies and failures.

pub mod json;
