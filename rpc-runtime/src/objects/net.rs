//! [`IpNetwork`]: the value of oslo's `IPNetworkField` (`IPV4NetworkField`,
//! `IPV6NetworkField`). Addresses (`IPAddressField` and its v4/v6 forms) need no type of
//! their own: `std::net::IpAddr`, `Ipv4Addr` and `Ipv6Addr` read and write the strings
//! netaddr does (`192.0.2.1`, `2001:db8::1`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// An address with a prefix length, as netaddr's `str(IPNetwork(...))` writes it:
/// `10.1.2.3/8` (host bits are kept, as netaddr keeps them), `2001:db8::/32`. An address
/// without a prefix reads as a single-host network (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

/// Not an address with an optional `/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IP network {0:?}: expected ADDRESS[/PREFIX]")]
pub struct IpNetworkError(String);

impl IpNetwork {
    /// `address/prefix`; `None` when the prefix is longer than the address (32 or 128).
    pub fn new(address: IpAddr, prefix: u8) -> Option<IpNetwork> {
        (prefix <= max_prefix(&address)).then_some(IpNetwork { address, prefix })
    }

    /// The address, host bits included.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

fn max_prefix(address: &IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

impl FromStr for IpNetwork {
    type Err = IpNetworkError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || IpNetworkError(text.to_owned());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| error())?;
        let prefix = match prefix {
            None => max_prefix(&address),
            Some(prefix) if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) => {
                prefix.parse().map_err(|_| error())?
            }
            Some(_) => return Err(error()),
        };
        IpNetwork::new(address, prefix).ok_or_else(error)
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl Serialize for IpNetwork {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNetwork {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NetworkVisitor;

        impl Visitor<'_> for NetworkVisitor {
            type Value = IpNetwork;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IP network string such as 10.0.0.0/8")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<IpNetwork, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(NetworkVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_what_netaddr_does() {
        for (text, shown) in [
            ("10.1.2.3/8", "10.1.2.3/8"),
            ("10.0.0.1", "10.0.0.1/32"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("::1", "::1/128"),
        ] {
            assert_eq!(text.parse::<IpNetwork>().unwrap().to_string(), shown);
        }
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "::/129",
            "x",
            "10.0.0.0/+8",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad}");
        }
    }
}
