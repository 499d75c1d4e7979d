//! The steps of `bench/items.sh` as one small program built with the load
//! generator (`web_load`), so that the benchmark needs one release build of
//! the `web` package and not a second one of the command line: each step
//! calls what the command named beside it calls, in a process of its own.
//!
//!     items_batch DB import-claims FILE     # safetynet --db DB import claims FILE
//!     items_batch DB import-items FILE      # safetynet --db DB import claim_items FILE
//!     items_batch DB settle YEAR            # safetynet --db DB settle --year YEAR
//!     items_batch DB serve IP:PORT          # safetynet --db DB serve --addr IP:PORT
//!
//! The command line's own figures (`SAFETYNET=… bench/items.sh`) are the
//! reference; this program leaves out only its progress bar and its audit row
//! of the import.

use std::path::Path;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, step, arg] = args.as_slice() else {
        eprintln!("usage: items_batch DB import-claims|import-items|settle|serve ARG");
        std::process::exit(2);
    };
    match step.as_str() {
        "import-claims" => {
            let store = store::Store::open(db).await.unwrap_or_else(|e| panic!("{e}"));
            store.migrate().await.unwrap_or_else(|e| panic!("{e}"));
            let input = app::import::Input::File { path: arg.into(), chunk: app::import::CHUNK_ROWS };
            let done = app::import::import::<domain::Claim>(&store, arg, input, "bench", |_, _| {}).await;
            done.unwrap_or_else(|e| panic!("{e}"));
            store.close().await;
        }
        "import-items" => {
            let read = ingest::read_claim_items(Path::new(arg));
            let app = app::App::open(db).await.unwrap_or_else(|e| panic!("{e}"));
            app::import::import_claim_items(&app, arg, read, "bench").await.unwrap_or_else(|e| panic!("{e}"));
            app.close().await;
        }
        "settle" => {
            let year: i32 = arg.parse().expect("a year");
            let store = store::Store::open(db).await.unwrap_or_else(|e| panic!("{e}"));
            store.migrate().await.unwrap_or_else(|e| panic!("{e}"));
            let counts = app::settlement::settle_stored(&store, &store::Scope::all(), year, "bench")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            eprintln!("settled {} claims of {year}", counts.settled);
            store.close().await;
        }
        "serve" => {
            let repo = web::open_app(db).await.unwrap_or_else(|e| panic!("{e}"));
            let listener = tokio::net::TcpListener::bind(arg).await.unwrap_or_else(|e| panic!("{e}"));
            let state = web::AppState::new(web::Config::default(), repo);
            web::serve_on(listener, state).await.unwrap_or_else(|e| panic!("{e}"));
        }
        other => {
            eprintln!("unknown step {other}");
            std::process::exit(2);
        }
    }
}
