//! The CLI as a user runs it (`tenant validate`, `policy check`, `schema`, `migrate`,
//! `tenant import|export|list`, `idp-sim`) and the documentation checked against the code,
//! in one binary. Each former `tests/<name>.rs` is the module `<name>`.

mod cli_idp_sim;
mod cli_registry;
mod cli_tenant;
mod docs;
