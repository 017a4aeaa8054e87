//! The identity map (`--identity-map FILE`, TOML): which Data API identity
//! each principal's statements run as, so that Redshift's grants, row-level
//! security and audit logs tell users apart.
//!
//! ```toml
//! default = "gateway"            # or "deny": principals without a rule
//! [[rule]]
//! principal = "alice"
//! db_user = "alice"              # temporary credentials of this database user
//! [[rule]]
//! principal = "etl-bot"
//! secret_arn = "arn:aws:secretsmanager:…:secret:etl-AbCdEf"
//! [[rule]]
//! principal = "mallory"
//! deny = true
//! ```

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;

use crate::dataapi::identity::DbIdentity;

/// What a principal's statements run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The gateway's own identity (`--db-user`, `--secret-arn` or its IAM identity).
    Gateway,
    /// This identity.
    As(DbIdentity),
    /// Nothing: every call is refused.
    Deny,
}

/// The rules of an identity map.
#[derive(Debug, Clone)]
pub struct IdentityMap {
    rules: HashMap<String, Mapped>,
    default: Mapped,
}

impl Default for IdentityMap {
    fn default() -> Self {
        Self {
            rules: HashMap::new(),
            default: Mapped::Gateway,
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default = "gateway")]
    default: String,
    #[serde(default)]
    rule: Vec<Rule>,
}

fn gateway() -> String {
    "gateway".to_owned()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    principal: String,
    db_user: Option<String>,
    secret_arn: Option<String>,
    #[serde(default)]
    deny: bool,
}

impl IdentityMap {
    /// Reads an identity map file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the identity map {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the identity map {}", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let file: File = toml::from_str(text)?;
        let default = match file.default.as_str() {
            "gateway" => Mapped::Gateway,
            "deny" => Mapped::Deny,
            other => anyhow::bail!("default = {other:?}: expected \"gateway\" or \"deny\""),
        };
        let mut rules = HashMap::new();
        for rule in file.rule {
            let mapped = match (rule.db_user, rule.secret_arn, rule.deny) {
                (Some(user), None, false) => Mapped::As(DbIdentity::DbUser(user)),
                (None, Some(arn), false) => Mapped::As(DbIdentity::SecretArn(arn)),
                (None, None, true) => Mapped::Deny,
                _ => anyhow::bail!(
                    "the rule of {:?} needs exactly one of db_user, secret_arn or deny = true",
                    rule.principal
                ),
            };
            anyhow::ensure!(
                rules.insert(rule.principal.clone(), mapped).is_none(),
                "{:?} has two rules",
                rule.principal
            );
        }
        Ok(Self { rules, default })
    }

    /// What `principal`'s statements run as.
    pub fn resolve(&self, principal: &str) -> &Mapped {
        self.rules.get(principal).unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_map_principals_and_the_default_covers_the_rest() {
        let map = IdentityMap::parse(
            "default = \"deny\"\n[[rule]]\nprincipal = \"alice\"\ndb_user = \"alice_db\"\n\
             [[rule]]\nprincipal = \"etl\"\nsecret_arn = \"arn:x\"\n",
        )
        .expect("parsed");
        assert_eq!(
            map.resolve("alice"),
            &Mapped::As(DbIdentity::DbUser("alice_db".into()))
        );
        assert_eq!(
            map.resolve("etl"),
            &Mapped::As(DbIdentity::SecretArn("arn:x".into()))
        );
        assert_eq!(map.resolve("bob"), &Mapped::Deny);
        for bad in [
            "[[rule]]\nprincipal = \"a\"\ndb_user = \"a\"\nsecret_arn = \"x\"\n",
            "[[rule]]\nprincipal = \"a\"\n",
            "default = \"maybe\"\n",
            "[[rule]]\nprincipal = \"a\"\ndeny = true\n[[rule]]\nprincipal = \"a\"\ndeny = true\n",
            "[[rule]]\nprincipal = \"a\"\ndbuser = \"a\"\n",
        ] {
            assert!(IdentityMap::parse(bad).is_err(), "{bad}");
        }
    }
}
