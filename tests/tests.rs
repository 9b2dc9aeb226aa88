//! The black-box test binary: the router with fakes, the AWS adapters with
//! SDK mocks, and the whole service against moto_server.

mod it;
