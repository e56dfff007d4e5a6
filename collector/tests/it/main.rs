//! The collector through its HTTP interface, on SQLite always and on PostgreSQL when
//! `CONSENTRY_TEST_PG` names a server (`postgres://USER@HOST:PORT/DB`; `cargo xtask test`
//! starts a throw-away cluster and sets it). Each test gets a fresh database.
mod api;
mod common;
mod concurrency;
mod forwarding;
mod hostile;
mod shutdown;
