//! The client's IP address as the rest of the stack should see it: for now the TCP peer
//! address (set by the edge service); trusted-proxy handling belongs here so that no other
//! layer ever reads forwarding headers itself.

use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);
