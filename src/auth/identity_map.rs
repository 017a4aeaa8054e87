//! The identity map (`--identity-map FILE`, TOML): which Data API identity
//! each caller's statements run as, so that Redshift's grants, row-level
//! security and audit logs tell users apart.
//!
//! Rules are tried in order; the first whose conditions all hold decides.
//! A rule matches on a `principal`, a `group` (of the tokens file, or of the
//! OIDC groups claim) and/or a JWT `claim` with the value `equals` (for a
//! claim that is a list, one of its values). `db_user` may name the
//! principal itself as `{principal}`.
//!
//! ```toml
//! default = "gateway"            # or "deny": callers no rule matches
//! [[rule]]
//! principal = "alice"
//! db_user = "alice"              # temporary credentials of this database user
//! [[rule]]
//! group = "etl"
//! secret_arn = "arn:aws:secretsmanager:…:secret:etl-AbCdEf"
//! [[rule]]
//! claim = "department"
//! equals = "finance"
//! db_user = "{principal}"
//! [[rule]]
//! principal = "mallory"
//! deny = true
//! ```

use std::path::Path;

use anyhow::Context as _;

use super::Caller;
use crate::dataapi::identity::DbIdentity;

/// What a caller's statements run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The gateway's own identity (`--db-user`, `--secret-arn` or its IAM identity).
    Gateway,
    /// This identity.
    As(DbIdentity),
    /// Nothing: every call is refused.
    Deny,
}

/// What a rule maps to (`db_user` may hold `{principal}`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Gateway,
    DbUser(String),
    SecretArn(String),
    Deny,
}

/// One rule: its conditions (all must hold) and what it maps to.
#[derive(Debug, Clone)]
struct Rule {
    principal: Option<String>,
    group: Option<String>,
    claim: Option<(String, String)>,
    target: Target,
}

/// The rules of an identity map.
#[derive(Debug, Clone)]
pub struct IdentityMap {
    rules: Vec<Rule>,
    default: Mapped,
}

impl Default for IdentityMap {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
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
    rule: Vec<RuleFile>,
}

fn gateway() -> String {
    "gateway".to_owned()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    principal: Option<String>,
    group: Option<String>,
    claim: Option<String>,
    equals: Option<String>,
    db_user: Option<String>,
    secret_arn: Option<String>,
    #[serde(default)]
    gateway: bool,
    #[serde(default)]
    deny: bool,
}

/// The placeholder for the principal's own name in `db_user`.
const PRINCIPAL: &str = "{principal}";

/// Longest database user name Redshift accepts.
const MAX_DB_USER: usize = 128;

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
        let mut rules: Vec<Rule> = Vec::new();
        for (n, rule) in file.rule.into_iter().enumerate() {
            let at = format!("rule {}", n + 1);
            let target = match (rule.db_user, rule.secret_arn, rule.gateway, rule.deny) {
                (Some(user), None, false, false) => {
                    anyhow::ensure!(!user.is_empty(), "{at}: db_user is empty");
                    Target::DbUser(user)
                }
                (None, Some(arn), false, false) => Target::SecretArn(arn),
                (None, None, true, false) => Target::Gateway,
                (None, None, false, true) => Target::Deny,
                _ => anyhow::bail!(
                    "{at} needs exactly one of db_user, secret_arn, gateway = true or deny = true"
                ),
            };
            let claim = match (rule.claim, rule.equals) {
                (Some(claim), Some(value)) => Some((claim, value)),
                (None, None) => None,
                _ => anyhow::bail!("{at}: `claim` and `equals` go together"),
            };
            anyhow::ensure!(
                rule.principal.is_some() || rule.group.is_some() || claim.is_some(),
                "{at} needs a condition: principal, group, or claim with equals"
            );
            let rule = Rule {
                principal: rule.principal,
                group: rule.group,
                claim,
                target,
            };
            anyhow::ensure!(
                !rules.iter().any(|r| r.same_conditions(&rule)),
                "{at} has the same conditions as an earlier rule, so it would never apply"
            );
            rules.push(rule);
        }
        Ok(Self { rules, default })
    }

    /// What `caller`'s statements run as: the identity its gateway token
    /// carries, else that of the first rule that matches, else the default.
    pub fn resolve(&self, caller: &Caller) -> Mapped {
        if let Some(resolved) = &caller.resolved {
            return resolved.clone();
        }
        self.rules
            .iter()
            .find(|r| r.matches(caller))
            .map_or_else(|| self.default.clone(), |r| r.mapped(caller))
    }
}

impl Rule {
    fn same_conditions(&self, other: &Self) -> bool {
        self.principal == other.principal && self.group == other.group && self.claim == other.claim
    }

    fn matches(&self, caller: &Caller) -> bool {
        self.principal
            .as_ref()
            .is_none_or(|p| *p == caller.principal.0)
            && self
                .group
                .as_ref()
                .is_none_or(|g| caller.groups.contains(g))
            && self.claim.as_ref().is_none_or(|(claim, value)| {
                caller
                    .claims
                    .get(claim)
                    .is_some_and(|v| super::oidc::claim_values(v).contains(value))
            })
    }

    fn mapped(&self, caller: &Caller) -> Mapped {
        match &self.target {
            Target::Gateway => Mapped::Gateway,
            Target::Deny => Mapped::Deny,
            Target::SecretArn(arn) => Mapped::As(DbIdentity::SecretArn(arn.clone())),
            Target::DbUser(user) if user.contains(PRINCIPAL) => {
                let name = &caller.principal.0;
                // A principal that cannot be a database user name (an email
                // address's `@` aside) is refused rather than passed on.
                let usable = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.@+-".contains(c));
                let user = user.replace(PRINCIPAL, name);
                if usable && user.len() <= MAX_DB_USER {
                    Mapped::As(DbIdentity::DbUser(user))
                } else {
                    tracing::warn!(principal = %name, "cannot be a database user name; denied");
                    Mapped::Deny
                }
            }
            Target::DbUser(user) => Mapped::As(DbIdentity::DbUser(user.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;

    fn named(name: &str) -> Caller {
        Caller::named(Principal(name.to_owned()))
    }

    #[test]
    fn rules_map_principals_and_the_default_covers_the_rest() {
        let map = IdentityMap::parse(
            "default = \"deny\"\n[[rule]]\nprincipal = \"alice\"\ndb_user = \"alice_db\"\n\
             [[rule]]\nprincipal = \"etl\"\nsecret_arn = \"arn:x\"\n",
        )
        .expect("parsed");
        assert_eq!(
            map.resolve(&named("alice")),
            Mapped::As(DbIdentity::DbUser("alice_db".into()))
        );
        assert_eq!(
            map.resolve(&named("etl")),
            Mapped::As(DbIdentity::SecretArn("arn:x".into()))
        );
        assert_eq!(map.resolve(&named("bob")), Mapped::Deny);
        for bad in [
            "[[rule]]\nprincipal = \"a\"\ndb_user = \"a\"\nsecret_arn = \"x\"\n",
            "[[rule]]\nprincipal = \"a\"\n",
            "[[rule]]\ndb_user = \"a\"\n",
            "[[rule]]\nclaim = \"dept\"\ndb_user = \"a\"\n",
            "default = \"maybe\"\n",
            "[[rule]]\nprincipal = \"a\"\ndeny = true\n[[rule]]\nprincipal = \"a\"\ndeny = true\n",
            "[[rule]]\nprincipal = \"a\"\ndbuser = \"a\"\n",
        ] {
            assert!(IdentityMap::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn groups_and_claims_match_in_order_and_the_principal_fills_the_template() {
        let map = IdentityMap::parse(
            "[[rule]]\nprincipal = \"root\"\ndeny = true\n\
             [[rule]]\ngroup = \"etl\"\nsecret_arn = \"arn:etl\"\n\
             [[rule]]\nclaim = \"department\"\nequals = \"finance\"\ndb_user = \"fin_{principal}\"\n\
             [[rule]]\ngroup = \"analysts\"\nclaim = \"region\"\nequals = \"eu\"\ndb_user = \"eu_analyst\"\n",
        )
        .expect("parsed");
        let etl = Caller {
            groups: vec!["readers".into(), "etl".into()],
            ..named("ci-bot")
        };
        assert_eq!(
            map.resolve(&etl),
            Mapped::As(DbIdentity::SecretArn("arn:etl".into()))
        );
        let mut claims = serde_json::Map::new();
        claims.insert("department".into(), serde_json::json!(["hr", "finance"]));
        let finance = Caller {
            claims: claims.clone(),
            ..named("carol")
        };
        assert_eq!(
            map.resolve(&finance),
            Mapped::As(DbIdentity::DbUser("fin_carol".into()))
        );
        // The first rule wins: root is denied whatever its claims.
        let root = Caller {
            claims,
            ..named("root")
        };
        assert_eq!(map.resolve(&root), Mapped::Deny);
        // A name that cannot be a database user is denied, not passed on.
        let mut claims = serde_json::Map::new();
        claims.insert("department".into(), serde_json::json!("finance"));
        let odd = Caller {
            claims,
            ..named("x\"; drop")
        };
        assert_eq!(map.resolve(&odd), Mapped::Deny);
        // Every condition of a rule must hold.
        let mut claims = serde_json::Map::new();
        claims.insert("region".into(), serde_json::json!("eu"));
        let analyst = Caller {
            groups: vec!["analysts".into()],
            claims: claims.clone(),
            ..named("dan")
        };
        assert_eq!(
            map.resolve(&analyst),
            Mapped::As(DbIdentity::DbUser("eu_analyst".into()))
        );
        let outsider = Caller {
            claims,
            ..named("erin")
        };
        assert_eq!(map.resolve(&outsider), Mapped::Gateway);
        // A gateway token's identity, resolved at Handshake, stands.
        let resolved = Caller {
            resolved: Some(Mapped::Gateway),
            ..named("root")
        };
        assert_eq!(map.resolve(&resolved), Mapped::Gateway);
    }
}
