//! Reading the TOML tables people edit (`targets.toml`, `actors.toml`):
//! one error type naming the file.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// The text of a table file.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// An `Invalid` error about `path` with the given message.
pub fn invalid(path: &Path) -> impl Fn(String) -> ConfigError + '_ {
    move |message| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}
