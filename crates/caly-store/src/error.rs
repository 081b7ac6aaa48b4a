use thiserror::Error;

/// Errors of the storage layer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database cannot be reached or has no free connection in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("invalid database url: {0}")]
    InvalidUrl(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[source] sqlx::Error),
    /// A unique constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value that the code cannot read back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// A column holding one of a fixed set of words (a role, a status…), read back as its type; a
/// word the code does not know is a corrupt row.
pub(crate) fn word<T: std::str::FromStr>(row: &sqlx::any::AnyRow, column: &str) -> Result<T, StoreError> {
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    parse_word(column, &text)
}

/// The same for a nullable column.
pub(crate) fn optional_word<T: std::str::FromStr>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<Option<T>, StoreError> {
    use sqlx::Row;
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| parse_word(column, &text)).transpose()
}

fn parse_word<T: std::str::FromStr>(column: &str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("{column} = {text:?}")))
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Self::Unavailable(error)
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(db.message().to_owned()),
            other => Self::Query(other),
        }
    }
}
