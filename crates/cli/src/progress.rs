//! Progress bars for long commands, on standard error, hidden with `--quiet` or when
//! standard error is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `len` units (bytes or rows) with a message; hidden when quiet.
pub fn bar(len: u64, msg: &str, quiet: bool) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {wide_bar} {percent:>3}% {per_sec} eta {eta}")
            .expect("valid template"),
    );
    pb.set_message(msg.to_string());
    pb
}

/// A spinner for work of unknown length (rows streamed, records written). It
/// ticks by itself, so that a long step with nothing to count still shows it is
/// running and for how long.
pub fn spinner(msg: &str, quiet: bool) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
    }
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} [{elapsed_precise}] {per_sec}").expect("valid template"),
    );
    pb.set_message(msg.to_string());
    pb
}
