//! Where statements run: a provisioned cluster or a Serverless workgroup,
//! the identity they run as, and the default database.

/// Default database (Redshift's own default).
pub(super) const DEFAULT_DATABASE: &str = "dev";

/// The Data API target (flags and `RSFS_*` variables). `serve` needs one of
/// `--cluster-identifier` or `--workgroup-name`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[group(skip)]
#[command(next_help_heading = "Target")]
#[command(group(
    clap::ArgGroup::new("target")
        .required(true)
        .args(["cluster_identifier", "workgroup_name"])
))]
pub struct DataApiTarget {
    /// Provisioned cluster identifier (with --db-user or --secret-arn, or
    /// neither for the caller's IAM identity).
    #[arg(long, env = "RSFS_CLUSTER_IDENTIFIER")]
    pub cluster_identifier: Option<String>,
    /// Serverless workgroup name (optionally with --secret-arn).
    #[arg(long, env = "RSFS_WORKGROUP_NAME")]
    pub workgroup_name: Option<String>,
    /// Database user for temporary cluster credentials.
    #[arg(long, env = "RSFS_DB_USER", conflicts_with = "secret_arn")]
    pub db_user: Option<String>,
    /// Secrets Manager ARN holding the database credentials.
    #[arg(long, env = "RSFS_SECRET_ARN")]
    pub secret_arn: Option<String>,
    /// Default database (the Flight SQL catalog when a client names none).
    #[arg(long, env = "RSFS_DATABASE", default_value = DEFAULT_DATABASE)]
    pub database: String,
}

impl DataApiTarget {
    /// The Data API identity statements run as, for logs and the audit log:
    /// `cluster "c" as DbUser "u"`, `workgroup "w" with a SecretArn`, …
    pub fn identity(&self) -> String {
        let place = match (&self.cluster_identifier, &self.workgroup_name) {
            (Some(c), _) => format!("cluster {c:?}"),
            (None, Some(w)) => format!("workgroup {w:?}"),
            (None, None) => "no cluster or workgroup".to_owned(),
        };
        let identity = match (&self.db_user, &self.secret_arn) {
            (Some(u), _) => format!(" as DbUser {u:?}"),
            (None, Some(arn)) => format!(" with SecretArn {arn:?}"),
            (None, None) => " as the caller's IAM identity".to_owned(),
        };
        format!("{place}{identity}")
    }
}

impl Default for DataApiTarget {
    fn default() -> Self {
        Self {
            cluster_identifier: None,
            workgroup_name: None,
            db_user: None,
            secret_arn: None,
            database: DEFAULT_DATABASE.to_owned(),
        }
    }
}
