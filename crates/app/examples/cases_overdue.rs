//! Times the case listings of bench/cases.sh on a store it has filled: the
//! overdue cases of a scope (first page of 100) and its open cases, as the
//! cases page and `GET /api/v1/cases?overdue=true` ask for them.
//!
//! cases_overdue DB TODAY SCOPE... (DB a SQLite path or a postgres:// URL)

use app::work::CaseFilter;
use app::{App, Scope};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, today, scopes @ ..] = args.as_slice() else {
        return Err("usage: cases_overdue DB TODAY SCOPE...".into());
    };
    let today: chrono::NaiveDate = today.parse()?;
    let app = App::open(db).await?;
    for scope in scopes {
        let s = Scope::parse(if scope == "nation" { "" } else { scope })?;
        for (label, filter) in [
            ("overdue", CaseFilter { overdue: true, limit: 100, ..Default::default() }),
            ("open", CaseFilter { open: true, limit: 100, ..Default::default() }),
        ] {
            let mut times = Vec::new();
            let mut rows = 0;
            for _ in 0..21 {
                let t = Instant::now();
                rows = app.cases(&s, &filter, today).await?.len();
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times.remove(0); // the first read warms the cache
            times.sort_by(f64::total_cmp);
            println!(
                "{scope:>8} {label:>8}: {rows} rows, p50 {:.1} ms, max {:.1} ms",
                times[times.len() / 2],
                times[times.len() - 1]
            );
        }
    }
    app.close().await;
    Ok(())
}
