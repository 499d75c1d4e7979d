//! `safetynet migrate`: creates the store if it does not exist, brings its schema
//! to the version this program knows, and prints that version.

use crate::Global;
use anyhow::Context;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args, global: &Global) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let store = store::Store::open(&global.db).await?;
        let before = store.schema_version().await?;
        let after = store.migrate().await?;
        store.close().await;
        if !global.quiet {
            if before == after {
                println!("{} store {} is at schema version {after} (nothing to do)", store.backend(), store.url());
            } else {
                println!("{} store {} migrated from schema version {before} to {after}", store.backend(), store.url());
            }
        }
        Ok(())
    })
}
