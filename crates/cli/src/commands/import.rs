//! `safetynet import`: not built yet.

use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> anyhow::Result<()> {
    anyhow::bail!("the import command is not built yet")
}
