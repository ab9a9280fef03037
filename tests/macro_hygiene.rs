//! Generated code is hygienic (tarpc's `proc_macro_hygene` test): an endpoint compiles and
//! works next to user items named like everything the expansion could name, with argument
//! names equal to its own locals, and in a module without the implicit prelude.

#![allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    unreachable_pub,
    clippy::all
)]

/// User items whose names an unhygienic expansion would pick up instead of its own.
mod clashing {
    use oslo_rpc::rpc_endpoint;

    pub struct Result;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Ok;
    pub struct Err;
    pub struct Value;
    pub struct Context;
    pub struct Box;
    pub struct Arc;
    pub struct Future;
    pub struct Send;
    pub struct Sync;
    pub struct String;
    pub struct Vec;
    pub struct Pin;
    pub struct RpcClient;
    pub struct RpcVersion;
    pub struct Args;
    pub struct Kwargs;
    pub struct Param;
    pub struct Wire;
    pub struct Endpoint;
    pub struct DispatchFuture;
    pub struct T;
    pub struct S;
    pub mod serde {}
    pub mod serde_json {}
    pub mod std {}
    pub mod core {}
    pub mod oslo_rpc_private {}
    pub fn client() {}
    pub fn push_argument() {}
    pub fn reply() {}
    pub fn fail_now() {}
    pub fn decode_result() {}
    pub fn schema_from_generated() {}
    pub const PARAMS: usize = 0;
    pub trait Clone {}
    pub trait Debug {}
    pub trait Into {}
    pub trait Ord {}
    pub trait ToOwned {}
    pub trait Serialize {}
    pub trait Deserialize {}
    pub trait RemoteException {}
    #[allow(unused_macros)]
    macro_rules! matches {
        ($($t:tt)*) => {
            compile_error!("the user's matches! was used")
        };
    }
    #[allow(unused_macros)]
    macro_rules! stringify {
        ($($t:tt)*) => {
            compile_error!("the user's stringify! was used")
        };
    }

    /// A user type that happens to be called `T`, like a generic parameter.
    pub type Amount = i64;

    /// Arguments named like the expansion's locals.
    #[rpc_endpoint(namespace = "hygiene", version = "1.2")]
    pub trait Clash {
        /// Every local name of the generated code, as keyword arguments.
        async fn locals(
            &self,
            ctx: &oslo_rpc::Context,
            client: i64,
            version: i64,
            args: i64,
            raw: i64,
            service: i64,
            kwargs: i64,
            result: i64,
            value: i64,
            failure: i64,
            method: i64,
        ) -> ::core::result::Result<i64, oslo_rpc::RpcError>;

        /// Keywords as argument names (`r#type` is `type` on the wire).
        #[rpc(since = "1.1")]
        async fn r#type(
            &self,
            r#in: ::std::string::String,
            #[rpc(since = "1.2")] r#match: ::core::option::Option<bool>,
        ) -> ::core::result::Result<::std::string::String, oslo_rpc::RpcError>;

        /// The request context reaches a method whose keyword is also called `ctx`... in
        /// the next method, which takes no context.
        async fn no_context(
            &self,
            ctx: ::std::string::String,
        ) -> ::core::result::Result<::std::string::String, oslo_rpc::RpcError>;

        /// A user type named `T`, where the endpoint's impl has a type parameter.
        async fn total(
            &self,
            amount: Amount,
            unit: ::core::option::Option<::std::string::String>,
        ) -> ::core::result::Result<Amount, oslo_rpc::RpcError>;
    }

    pub struct Service;

    impl Clash for Service {
        async fn locals(
            &self,
            _ctx: &oslo_rpc::Context,
            client: i64,
            version: i64,
            args: i64,
            raw: i64,
            service: i64,
            kwargs: i64,
            result: i64,
            value: i64,
            failure: i64,
            method: i64,
        ) -> ::core::result::Result<i64, oslo_rpc::RpcError> {
            ::core::result::Result::Ok(
                client
                    + version
                    + args
                    + raw
                    + service
                    + kwargs
                    + result
                    + value
                    + failure
                    + method,
            )
        }

        async fn r#type(
            &self,
            r#in: ::std::string::String,
            r#match: ::core::option::Option<bool>,
        ) -> ::core::result::Result<::std::string::String, oslo_rpc::RpcError> {
            ::core::result::Result::Ok(::std::format!("{in}:{match:?}", in = r#in, match = r#match))
        }

        async fn no_context(
            &self,
            ctx: ::std::string::String,
        ) -> ::core::result::Result<::std::string::String, oslo_rpc::RpcError> {
            ::core::result::Result::Ok(ctx)
        }

        async fn total(
            &self,
            amount: Amount,
            unit: ::core::option::Option<::std::string::String>,
        ) -> ::core::result::Result<Amount, oslo_rpc::RpcError> {
            let _ = unit;
            ::core::result::Result::Ok(amount * 2)
        }
    }
}

/// No implicit prelude at all: every name the expansion uses must be fully qualified.
mod no_prelude {
    #![no_implicit_prelude]

    #[::oslo_rpc::rpc_endpoint(version = "3.1")]
    pub trait Bare {
        /// Sums.
        async fn sum(
            &self,
            values: ::std::vec::Vec<i64>,
        ) -> ::core::result::Result<i64, ::oslo_rpc::RpcError>;
        /// A default body under no prelude.
        #[rpc(since = "3.1")]
        async fn twice(&self, x: i64) -> ::core::result::Result<i64, ::oslo_rpc::RpcError> {
            ::core::result::Result::Ok(x * 2)
        }
    }

    pub struct Service;

    impl Bare for Service {
        async fn sum(
            &self,
            values: ::std::vec::Vec<i64>,
        ) -> ::core::result::Result<i64, ::oslo_rpc::RpcError> {
            ::core::result::Result::Ok(::core::iter::Iterator::sum(values.iter()))
        }
    }
}

#[tokio::test]
async fn clashing_names_and_no_prelude_still_work() {
    use oslo_rpc::prelude::*;

    let url = format!("memory://hygiene-{}", uuid::Uuid::new_v4().simple());
    let transport = Transport::new(&url).unwrap();
    let server = RpcServer::builder(transport.clone(), Target::server("hygiene", "s1"))
        .endpoint(clashing::ClashEndpoint::new(clashing::Service))
        .endpoint(no_prelude::BareEndpoint::new(no_prelude::Service))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let ctx = Context::new();

    let clash =
        clashing::ClashClient::new(RpcClient::new(transport.clone(), Target::topic("hygiene")));
    assert_eq!(
        clash
            .locals(&ctx, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
            .await
            .unwrap(),
        55
    );
    assert_eq!(
        clash
            .r#type(&ctx, "x".to_owned(), Some(true))
            .await
            .unwrap(),
        "x:Some(true)"
    );
    assert_eq!(clash.no_context(&ctx, "kw".to_owned()).await.unwrap(), "kw");
    assert_eq!(clash.total(&ctx, 21, None).await.unwrap(), 42);
    let schema = clashing::ClashClient::schema();
    assert_eq!(schema.methods[1].name, "type");
    assert_eq!(schema.methods[1].rust_name, "type");
    assert_eq!(schema.methods[1].args[0].name, "in");
    assert_eq!(schema.methods[1].args[1].name, "match");
    assert_eq!(
        schema.methods[3].args[0].schema,
        serde_json::json!({"x-rust-type": "Amount"})
    );
    // The wire names of keyword-named arguments have no `r#`.
    let untyped = RpcClient::new(transport.clone(), Target::topic("hygiene"))
        .namespace(Some("hygiene".to_owned()));
    assert_eq!(
        untyped
            .call(&ctx, "type", serde_json::json!({"in": "y", "match": false}))
            .await
            .unwrap(),
        serde_json::json!("y:Some(false)")
    );

    let bare = no_prelude::BareClient::new(RpcClient::new(transport, Target::topic("hygiene")));
    assert_eq!(bare.sum(&ctx, vec![1, 2, 3]).await.unwrap(), 6);
    assert_eq!(bare.twice(&ctx, 4).await.unwrap(), 8);
    server.stop().await.unwrap();
}

/// A derived versioned object among the same clashing names (a glob import shadows the
/// prelude), with fields named like the derive's locals.
mod clashing_object {
    #[allow(unused_imports)]
    use super::clashing::*;

    #[derive(oslo_rpc::VersionedObject, ::core::fmt::Debug, ::core::cmp::PartialEq)]
    #[versioned_object(name = "Clashy", version = "1.1")]
    pub struct Clashy {
        pub data: i64,
        pub version: i64,
        pub out: ::std::string::String,
        pub value: ::core::option::Option<i64>,
        pub target: i64,
        pub serializer: i64,
        pub index: ::std::vec::Vec<i64>,
        #[versioned_object(since = "1.1")]
        pub r#type: oslo_rpc::objects::Field<::core::option::Option<i64>>,
        pub state: oslo_rpc::objects::ObjectState,
    }
}

#[test]
fn a_derived_object_among_clashing_names_round_trips() {
    use oslo_rpc::VersionedObject;
    let object = clashing_object::Clashy {
        data: 1,
        version: 2,
        out: "o".into(),
        value: None,
        target: 3,
        serializer: 4,
        index: vec![5],
        r#type: oslo_rpc::objects::Field::Set(Some(6)),
        state: oslo_rpc::objects::ObjectState::new(),
    };
    let primitive = object.to_primitive(None, None).unwrap();
    assert!(primitive.as_str().contains(r#""type": 6"#), "{primitive}");
    assert_eq!(
        clashing_object::Clashy::from_primitive(&primitive).unwrap(),
        object
    );
}
