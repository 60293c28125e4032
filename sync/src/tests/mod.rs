//! Tests over an in-memory replica: CAR export and import, and the protocol over loopback TCP
//! with honest and dishonest peers. No assertion depends on timing.

mod import;
mod mem;
mod net;
