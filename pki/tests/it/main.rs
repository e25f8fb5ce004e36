//! The integration tests of `mtls-pki`, in one binary: each module is one
//! area.

mod boundary;
