//! Static API tokens (`--auth tokens`): a file of SHA-256 hashes of
//! high-entropy tokens, each with the principal it stands for and its
//! groups. The file never holds a token itself; `hash-token` makes a line.

use std::collections::HashMap;
use std::path::Path;

use super::Principal;

/// One token's principal and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    /// The principal the token authenticates as.
    pub principal: Principal,
    /// Its groups (for the identity mapping).
    pub groups: Vec<String>,
}

/// The tokens of a tokens file, by the hex SHA-256 of each.
#[derive(Debug, Clone, Default)]
pub struct StaticTokens(HashMap<String, TokenOwner>);

/// The hex SHA-256 of a token, as the tokens file holds it.
pub fn token_hash(token: &str) -> String {
    crate::telemetry::audit::sha256_hex(token.as_bytes())
}

impl StaticTokens {
    /// Reads a tokens file: `principal:sha256-hex[:group,group]` lines;
    /// blank lines and `#` comments are skipped.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading tokens file {}: {e}", path.display()))?;
        let mut tokens = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ':');
            let (Some(principal), Some(hash)) = (parts.next(), parts.next()) else {
                anyhow::bail!(
                    "{}:{}: expected `principal:sha256-hex[:groups]`",
                    path.display(),
                    n + 1
                );
            };
            let hash = hash.trim().to_ascii_lowercase();
            anyhow::ensure!(
                !principal.is_empty()
                    && hash.len() == 64
                    && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}:{}: expected a principal and a 64-digit hex SHA-256 (make one with `redshift-flight-sql hash-token`)",
                path.display(),
                n + 1
            );
            let groups = parts
                .next()
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            tokens.insert(
                hash,
                TokenOwner {
                    principal: Principal(principal.to_owned()),
                    groups,
                },
            );
        }
        Ok(Self(tokens))
    }

    /// The owner of `token`, if it is one of the file's.
    pub fn owner(&self, token: &str) -> Option<&TokenOwner> {
        self.0.get(&token_hash(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_file_maps_hashes_to_principals_and_groups() {
        let path = std::env::temp_dir().join(format!("rsfs-tokens-{}", uuid::Uuid::new_v4()));
        let line = format!(
            "ci-bot:{}:etl, readers\n# a comment\n",
            token_hash("s3cr3t-token")
        );
        std::fs::write(&path, line).expect("write");
        let tokens = StaticTokens::read(&path).expect("read");
        let owner = tokens.owner("s3cr3t-token").expect("known");
        assert_eq!(owner.principal.0, "ci-bot");
        assert_eq!(owner.groups, ["etl", "readers"]);
        assert!(tokens.owner("guess").is_none());
        std::fs::write(&path, "ci-bot:plaintext-token\n").expect("write");
        let e = StaticTokens::read(&path).expect_err("not a hash");
        assert!(e.to_string().contains("64-digit hex SHA-256"), "{e}");
    }
}
