//! The server's own keys: random secrets that every process on one store shares,
//! made by the first process that asks for one (see migration 8).

use crate::db::{now, on_pool, ts, Store};
use crate::error::{Ctx, StoreError};

impl Store {
    /// The key kept under `name`; when there is none yet, `fresh` is kept and
    /// returned. Two processes asking at once get the same key: the first insert
    /// wins and both read it back.
    pub async fn server_key(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        let ctx = "reading the server's keys";
        on_pool!(self, p => {
            sqlx::query("INSERT INTO server_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(fresh)
                .bind(ts(now()))
                .execute(p)
                .await
                .ctx(ctx)?;
            let key: Vec<u8> = sqlx::query_scalar("SELECT key FROM server_keys WHERE name = $1")
                .bind(name)
                .fetch_one(p)
                .await
                .ctx(ctx)?;
            Ok(key)
        })
    }
}
