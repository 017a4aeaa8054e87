//! Static Flight SQL server metadata for Redshift behind this gateway, built
//! once: the SqlInfo answers of GetSqlInfo and the XDBC type table of
//! GetXdbcTypeInfo.
//!
//! Where the spec comments and the real clients disagree on a value's type,
//! the clients win, since a mismatch breaks them (the Arrow ODBC driver
//! reinterprets the union child without checking it, and the JDBC driver casts
//! it):
//! - SqlIdentifierCase, SqlQuotedIdentifierCase, SqlNullOrdering and
//!   SqlDefaultTransactionIsolation are int64 ordinals (the ODBC driver reads
//!   them as int64, JDBC reads the default isolation as a Long; the reference
//!   C++ and Java servers send int64).
//! - SqlOuterJoinsSupportLevel is an int32 bitmask of
//!   `SqlOuterJoinsSupportLevel` flags, as JDBC and ODBC both test bits of it.
//! - Every other enum-valued info is an int32 (`1 << variant` for the bitmasks),
//!   the two timeouts are int32 and the limits are int64.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use arrow_flight::sql::metadata::{
    SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    Nullable, Searchable, SqlInfo, SqlNullOrdering, SqlOuterJoinsSupportLevel,
    SqlSupportedCaseSensitivity, SqlSupportedElementActions, SqlSupportedGroupBy,
    SqlSupportedResultSetConcurrency, SqlSupportedResultSetType, SqlSupportedSubqueries,
    SqlSupportedTransaction, SqlSupportedUnions, SqlSupportsConvert, SqlTransactionIsolationLevel,
    SupportedSqlGrammar, XdbcDataType, XdbcDatetimeSubcode,
};

/// Redshift's reserved words (the "Reserved words" page of the Redshift
/// Database Developer Guide).
const KEYWORDS: &[&str] = &[
    "AES128",
    "AES256",
    "ALL",
    "ALLOWOVERWRITE",
    "ANALYSE",
    "ANALYZE",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "AUTHORIZATION",
    "AZ64",
    "BACKUP",
    "BETWEEN",
    "BINARY",
    "BLANKSASNULL",
    "BOTH",
    "BYTEDICT",
    "BZIP2",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "CONSTRAINT",
    "CREATE",
    "CREDENTIALS",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "CURRENT_USER_ID",
    "DEFAULT",
    "DEFERRABLE",
    "DEFLATE",
    "DEFRAG",
    "DELTA",
    "DELTA32K",
    "DESC",
    "DISABLE",
    "DISTINCT",
    "DO",
    "ELSE",
    "EMPTYASNULL",
    "ENABLE",
    "ENCODE",
    "ENCRYPT",
    "ENCRYPTION",
    "END",
    "EXCEPT",
    "EXPLICIT",
    "FALSE",
    "FOR",
    "FOREIGN",
    "FREEZE",
    "FROM",
    "FULL",
    "GLOBALDICT256",
    "GLOBALDICT64K",
    "GRANT",
    "GROUP",
    "GZIP",
    "HAVING",
    "IDENTITY",
    "IGNORE",
    "ILIKE",
    "IN",
    "INITIALLY",
    "INNER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "LANGUAGE",
    "LEADING",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "LUN",
    "LUNS",
    "LZO",
    "LZOP",
    "MINUS",
    "MOSTLY16",
    "MOSTLY32",
    "MOSTLY8",
    "NATURAL",
    "NEW",
    "NOT",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OFF",
    "OFFLINE",
    "OFFSET",
    "OID",
    "OLD",
    "ON",
    "ONLY",
    "OPEN",
    "OR",
    "ORDER",
    "OUTER",
    "OVERLAPS",
    "PARALLEL",
    "PARTITION",
    "PERCENT",
    "PERMISSIONS",
    "PIVOT",
    "PLACING",
    "PRIMARY",
    "RAW",
    "READRATIO",
    "RECOVER",
    "REFERENCES",
    "REJECTLOG",
    "RESORT",
    "RESPECT",
    "RESTORE",
    "RIGHT",
    "SELECT",
    "SESSION_USER",
    "SIMILAR",
    "SNAPSHOT",
    "SOME",
    "SYSDATE",
    "SYSTEM",
    "TABLE",
    "TAG",
    "TDES",
    "TEXT255",
    "TEXT32K",
    "THEN",
    "TIMESTAMP",
    "TO",
    "TOP",
    "TRAILING",
    "TRUE",
    "TRUNCATECOLUMNS",
    "UNION",
    "UNIQUE",
    "UNNEST",
    "UNPIVOT",
    "USER",
    "USING",
    "VERBOSE",
    "WALLET",
    "WHEN",
    "WHERE",
    "WITH",
    "WITHOUT",
];

/// Redshift's math functions.
const NUMERIC_FUNCTIONS: &[&str] = &[
    "ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CBRT", "CEILING", "CEIL", "COS", "COT", "DEGREES",
    "DEXP", "DLOG1", "DLOG10", "EXP", "FLOOR", "LN", "LOG", "MOD", "PI", "POWER", "RADIANS",
    "RANDOM", "ROUND", "SIN", "SIGN", "SQRT", "TAN", "TRUNC",
];

/// Redshift's string functions.
const STRING_FUNCTIONS: &[&str] = &[
    "ASCII",
    "BPCHARCMP",
    "BTRIM",
    "BTTEXT_PATTERN_CMP",
    "CHAR_LENGTH",
    "CHARACTER_LENGTH",
    "CHARINDEX",
    "CHR",
    "COLLATE",
    "CONCAT",
    "CRC32",
    "DIFFERENCE",
    "INITCAP",
    "LEFT",
    "RIGHT",
    "LEN",
    "LENGTH",
    "LOWER",
    "LPAD",
    "RPAD",
    "LTRIM",
    "OCTETINDEX",
    "OCTET_LENGTH",
    "POSITION",
    "QUOTE_IDENT",
    "QUOTE_LITERAL",
    "REGEXP_COUNT",
    "REGEXP_INSTR",
    "REGEXP_REPLACE",
    "REGEXP_SUBSTR",
    "REPEAT",
    "REPLACE",
    "REPLICATE",
    "REVERSE",
    "RTRIM",
    "SOUNDEX",
    "SPLIT_PART",
    "STRPOS",
    "STRTOL",
    "SUBSTRING",
    "TEXTLEN",
    "TRANSLATE",
    "TRIM",
    "UPPER",
];

/// Redshift's system information functions.
const SYSTEM_FUNCTIONS: &[&str] = &[
    "CURRENT_DATABASE",
    "CURRENT_SCHEMA",
    "CURRENT_SCHEMAS",
    "CURRENT_USER",
    "CURRENT_USER_ID",
    "HAS_DATABASE_PRIVILEGE",
    "HAS_SCHEMA_PRIVILEGE",
    "HAS_TABLE_PRIVILEGE",
    "PG_BACKEND_PID",
    "PG_LAST_COPY_COUNT",
    "PG_LAST_COPY_ID",
    "PG_LAST_QUERY_ID",
    "SESSION_USER",
    "SLICE_NUM",
    "USER",
    "VERSION",
];

/// Redshift's date and time functions.
const DATETIME_FUNCTIONS: &[&str] = &[
    "ADD_MONTHS",
    "AT TIME ZONE",
    "CONVERT_TIMEZONE",
    "CURRENT_DATE",
    "DATE_CMP",
    "DATE_CMP_TIMESTAMP",
    "DATE_PART_YEAR",
    "DATEADD",
    "DATEDIFF",
    "DATE_PART",
    "DATE_TRUNC",
    "EXTRACT",
    "GETDATE",
    "INTERVAL_CMP",
    "LAST_DAY",
    "MONTHS_BETWEEN",
    "NEXT_DAY",
    "SYSDATE",
    "TIMEOFDAY",
    "TIMESTAMP_CMP",
    "TIMEZONE",
    "TO_TIMESTAMP",
    "TRUNC",
];

/// The SQL_ANSI92_SUPPORTED_LEVEL bitmask of entry-level SQL-92: bit
/// `SupportedAnsi92SqlGrammarLevel::Ansi92EntrySql` (0). arrow-flight 60.1
/// doesn't re-export that enum.
const ANSI92_ENTRY_SQL: i32 = 1 << 0;

/// An int32 bitmask with bit `1 << flag` set for each flag.
fn bitmask<E: Into<i32>>(flags: impl IntoIterator<Item = E>) -> i32 {
    flags
        .into_iter()
        .fold(0, |mask, flag| mask | (1 << flag.into()))
}

/// Records that Redshift can CAST each of `from` to each of `to`.
fn allow_casts(
    map: &mut BTreeMap<i32, Vec<i32>>,
    from: &[SqlSupportsConvert],
    to: &[SqlSupportsConvert],
) {
    for &f in from {
        map.entry(f as i32)
            .or_default()
            .extend(to.iter().map(|&t| t as i32));
    }
}

/// SQL_SUPPORTS_CONVERT: source type → the types Redshift can CAST it to.
///
/// Deliberately conservative: only conversions the Redshift docs state (the
/// implicit-conversion table, the CAST and VARBYTE pages and the literal forms
/// of BOOLEAN). BOOLEAN to a number or a string is left out (not documented);
/// TINYINT, BINARY, LONGVARBINARY and the interval types are left out entirely.
fn supports_convert() -> BTreeMap<i32, Vec<i32>> {
    use SqlSupportsConvert::*;
    const INTEGERS: &[SqlSupportsConvert] =
        &[SqlConvertSmallint, SqlConvertInteger, SqlConvertBigint];
    const NUMBERS: &[SqlSupportsConvert] = &[
        SqlConvertSmallint,
        SqlConvertInteger,
        SqlConvertBigint,
        SqlConvertDecimal,
        SqlConvertNumeric,
        SqlConvertReal,
        SqlConvertFloat,
    ];
    const STRINGS: &[SqlSupportsConvert] =
        &[SqlConvertChar, SqlConvertVarchar, SqlConvertLongvarchar];

    let mut map = BTreeMap::new();
    // Numbers among themselves and to text.
    allow_casts(&mut map, NUMBERS, NUMBERS);
    allow_casts(&mut map, NUMBERS, STRINGS);
    // Integers to BOOLEAN, and to and from VARBYTE (keeping their byte width).
    allow_casts(&mut map, INTEGERS, &[SqlConvertBit, SqlConvertVarbinary]);
    // Text to everything it parses as, VARBYTE (UTF-8) included.
    allow_casts(&mut map, STRINGS, STRINGS);
    allow_casts(&mut map, STRINGS, NUMBERS);
    allow_casts(
        &mut map,
        STRINGS,
        &[
            SqlConvertBit,
            SqlConvertDate,
            SqlConvertTime,
            SqlConvertTimestamp,
        ],
    );
    allow_casts(
        &mut map,
        &[SqlConvertChar, SqlConvertVarchar],
        &[SqlConvertVarbinary],
    );
    allow_casts(&mut map, &[SqlConvertBit], &[SqlConvertBit]);
    // Datetimes: to text, DATE ↔ TIMESTAMP, TIMESTAMP → TIME.
    allow_casts(
        &mut map,
        &[SqlConvertDate],
        &[SqlConvertDate, SqlConvertTimestamp],
    );
    allow_casts(&mut map, &[SqlConvertDate], STRINGS);
    allow_casts(
        &mut map,
        &[SqlConvertTimestamp],
        &[SqlConvertTimestamp, SqlConvertDate, SqlConvertTime],
    );
    allow_casts(&mut map, &[SqlConvertTimestamp], STRINGS);
    allow_casts(
        &mut map,
        &[SqlConvertTime],
        &[SqlConvertTime, SqlConvertVarchar, SqlConvertLongvarchar],
    );
    // VARBYTE to itself, CHAR, VARCHAR and the integers.
    allow_casts(
        &mut map,
        &[SqlConvertVarbinary],
        &[SqlConvertVarbinary, SqlConvertChar, SqlConvertVarchar],
    );
    allow_casts(&mut map, &[SqlConvertVarbinary], INTEGERS);

    for targets in map.values_mut() {
        targets.sort_unstable();
        targets.dedup();
    }
    map
}

/// The SqlInfo answers of GetSqlInfo: what Redshift behind this gateway supports.
pub(crate) static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| build(false));

/// The same answers for a `--read-only` gateway.
static SQL_INFO_READ_ONLY: LazyLock<SqlInfoData> = LazyLock::new(|| build(true));

/// The SqlInfo answers of a gateway that is read-only or not.
pub(crate) fn sql_info(read_only: bool) -> &'static SqlInfoData {
    if read_only {
        &SQL_INFO_READ_ONLY
    } else {
        &SQL_INFO
    }
}

fn build(read_only: bool) -> SqlInfoData {
    let mut b = SqlInfoDataBuilder::new();

    // The server.
    b.append(SqlInfo::FlightSqlServerName, "redshift-flight-sql");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, "60.1.0");
    b.append(SqlInfo::FlightSqlServerReadOnly, read_only);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    // (No Substrait min/max version: the spec wants null when unsupported.)
    b.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::Transaction as i32,
    );
    b.append(SqlInfo::FlightSqlServerCancel, true);
    b.append(SqlInfo::FlightSqlServerBulkIngestion, true);
    b.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, true);
    b.append(SqlInfo::FlightSqlServerStatementTimeout, 0_i32);
    b.append(SqlInfo::FlightSqlServerTransactionTimeout, 0_i32);

    // DDL and identifiers. Redshift folds unquoted identifiers to lower case,
    // and quoted ones too unless enable_case_sensitive_identifier is on.
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, true);
    b.append(SqlInfo::SqlDdlTable, true);
    b.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i64,
    );
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i64,
    );
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    // NULLs sort as if larger than any value.
    b.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i64,
    );

    // Vocabulary.
    b.append(SqlInfo::SqlKeywords, KEYWORDS);
    b.append(SqlInfo::SqlNumericFunctions, NUMERIC_FUNCTIONS);
    b.append(SqlInfo::SqlStringFunctions, STRING_FUNCTIONS);
    b.append(SqlInfo::SqlSystemFunctions, SYSTEM_FUNCTIONS);
    b.append(SqlInfo::SqlDatetimeFunctions, DATETIME_FUNCTIONS);
    b.append(SqlInfo::SqlSearchStringEscape, "\\");
    // Unquoted identifiers may also contain `$` (and multibyte UTF-8).
    b.append(SqlInfo::SqlExtraNameCharacters, "$");

    // Query features.
    b.append(SqlInfo::SqlSupportsColumnAliasing, true);
    b.append(SqlInfo::SqlNullPlusNullIsNull, true);
    b.append(SqlInfo::SqlSupportsConvert, supports_convert());
    b.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    b.append(SqlInfo::SqlSupportsDifferentTableCorrelationNames, false);
    b.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    b.append(SqlInfo::SqlSupportsOrderByUnrelated, true);
    b.append(
        SqlInfo::SqlSupportedGroupBy,
        bitmask([
            SqlSupportedGroupBy::SqlGroupByUnrelated,
            SqlSupportedGroupBy::SqlGroupByBeyondSelect,
        ]),
    );
    b.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    b.append(SqlInfo::SqlSupportsNonNullableColumns, true);
    b.append(
        SqlInfo::SqlSupportedGrammar,
        bitmask([SupportedSqlGrammar::SqlCoreGrammar]),
    );
    b.append(SqlInfo::SqlAnsi92SupportedLevel, ANSI92_ENTRY_SQL);
    b.append(SqlInfo::SqlSupportsIntegrityEnhancementFacility, false);
    // Full outer joins (so limited ones too), as a bitmask: see the module doc.
    b.append(
        SqlInfo::SqlOuterJoinsSupportLevel,
        bitmask([
            SqlOuterJoinsSupportLevel::SqlLimitedOuterJoins,
            SqlOuterJoinsSupportLevel::SqlFullOuterJoins,
        ]),
    );

    // Catalogs, schemas and procedures. A catalog is a database; Redshift has
    // no indexes, and a database name can't qualify a procedure call or a GRANT.
    b.append(SqlInfo::SqlSchemaTerm, "schema");
    b.append(SqlInfo::SqlProcedureTerm, "procedure");
    b.append(SqlInfo::SqlCatalogTerm, "database");
    b.append(SqlInfo::SqlCatalogAtStart, true);
    b.append(
        SqlInfo::SqlSchemasSupportedActions,
        bitmask([
            SqlSupportedElementActions::SqlElementInProcedureCalls,
            SqlSupportedElementActions::SqlElementInPrivilegeDefinitions,
        ]),
    );
    b.append(SqlInfo::SqlCatalogsSupportedActions, 0_i32);
    b.append(SqlInfo::SqlSupportedPositionedCommands, 0_i32);
    b.append(SqlInfo::SqlSelectForUpdateSupported, false);
    b.append(SqlInfo::SqlStoredProceduresSupported, true);
    b.append(
        SqlInfo::SqlSupportedSubqueries,
        bitmask([
            SqlSupportedSubqueries::SqlSubqueriesInComparisons,
            SqlSupportedSubqueries::SqlSubqueriesInExists,
            SqlSupportedSubqueries::SqlSubqueriesInIns,
            SqlSupportedSubqueries::SqlSubqueriesInQuantifieds,
        ]),
    );
    b.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    b.append(
        SqlInfo::SqlSupportedUnions,
        bitmask([
            SqlSupportedUnions::SqlUnion,
            SqlSupportedUnions::SqlUnionAll,
        ]),
    );

    // Limits (0: none or unknown).
    b.append(SqlInfo::SqlMaxBinaryLiteralLength, 1_024_000_i64);
    b.append(SqlInfo::SqlMaxCharLiteralLength, 65_535_i64);
    b.append(SqlInfo::SqlMaxColumnNameLength, 127_i64);
    b.append(SqlInfo::SqlMaxColumnsInGroupBy, 0_i64);
    b.append(SqlInfo::SqlMaxColumnsInIndex, 0_i64);
    b.append(SqlInfo::SqlMaxColumnsInOrderBy, 0_i64);
    b.append(SqlInfo::SqlMaxColumnsInSelect, 1_600_i64);
    b.append(SqlInfo::SqlMaxColumnsInTable, 1_600_i64);
    b.append(SqlInfo::SqlMaxConnections, 0_i64);
    b.append(SqlInfo::SqlMaxCursorNameLength, 127_i64);
    b.append(SqlInfo::SqlMaxIndexLength, 0_i64);
    b.append(SqlInfo::SqlDbSchemaNameLength, 127_i64);
    b.append(SqlInfo::SqlMaxProcedureNameLength, 127_i64);
    b.append(SqlInfo::SqlMaxCatalogNameLength, 127_i64);
    // Redshift rows are at most 4 MB.
    b.append(SqlInfo::SqlMaxRowSize, 4_194_304_i64);
    b.append(SqlInfo::SqlMaxRowSizeIncludesBlobs, true);
    // The Data API's 100 KB statement limit.
    b.append(SqlInfo::SqlMaxStatementLength, 102_400_i64);
    b.append(SqlInfo::SqlMaxStatements, 0_i64);
    b.append(SqlInfo::SqlMaxTableNameLength, 127_i64);
    b.append(SqlInfo::SqlMaxTablesInSelect, 0_i64);
    b.append(SqlInfo::SqlMaxUsernameLength, 128_i64);

    // Transactions: SERIALIZABLE by default, no savepoints; DDL is
    // transactional.
    b.append(
        SqlInfo::SqlDefaultTransactionIsolation,
        SqlTransactionIsolationLevel::SqlTransactionSerializable as i64,
    );
    b.append(SqlInfo::SqlTransactionsSupported, true);
    b.append(
        SqlInfo::SqlSupportedTransactionsIsolationLevels,
        bitmask([SqlTransactionIsolationLevel::SqlTransactionSerializable]),
    );
    b.append(SqlInfo::SqlDataDefinitionCausesTransactionCommit, false);
    b.append(SqlInfo::SqlDataDefinitionsInTransactionsIgnored, false);

    // Result sets: forward-only and read-only.
    b.append(
        SqlInfo::SqlSupportedResultSetTypes,
        bitmask([SqlSupportedResultSetType::SqlResultSetTypeForwardOnly]),
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetUnspecified,
        0_i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetForwardOnly,
        bitmask([SqlSupportedResultSetConcurrency::SqlResultSetConcurrencyReadOnly]),
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollSensitive,
        0_i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollInsensitive,
        0_i32,
    );

    // Statements.
    b.append(SqlInfo::SqlBatchUpdatesSupported, true);
    b.append(SqlInfo::SqlSavepointsSupported, false);
    // The Data API binds named parameters (`:name`).
    b.append(SqlInfo::SqlNamedParametersSupported, true);
    b.append(SqlInfo::SqlLocatorsUpdateCopy, false);
    b.append(SqlInfo::SqlStoredFunctionsUsingCallSyntaxSupported, false);

    b.build().expect("the static SqlInfo table builds")
}

/// A type row with the common defaults: nullable, not case sensitive, fully
/// searchable, SQL_DATA_TYPE the same as DATA_TYPE, no number attributes.
fn base(type_name: &str, data_type: XdbcDataType, column_size: Option<i32>) -> XdbcTypeInfo {
    XdbcTypeInfo {
        type_name: type_name.to_owned(),
        data_type,
        column_size,
        literal_prefix: None,
        literal_suffix: None,
        create_params: None,
        nullable: Nullable::NullabilityNullable,
        case_sensitive: false,
        searchable: Searchable::Full,
        unsigned_attribute: None,
        fixed_prec_scale: false,
        auto_increment: None,
        local_type_name: Some(type_name.to_owned()),
        minimum_scale: None,
        maximum_scale: None,
        sql_data_type: data_type,
        datetime_subcode: None,
        num_prec_radix: None,
        interval_precision: None,
    }
}

/// A signed number type with `digits` decimal digits of precision.
fn number(type_name: &str, data_type: XdbcDataType, digits: i32) -> XdbcTypeInfo {
    XdbcTypeInfo {
        unsigned_attribute: Some(false),
        auto_increment: Some(false),
        num_prec_radix: Some(10),
        ..base(type_name, data_type, Some(digits))
    }
}

/// An exact integer type (scale 0).
fn integer(type_name: &str, data_type: XdbcDataType, digits: i32) -> XdbcTypeInfo {
    XdbcTypeInfo {
        minimum_scale: Some(0),
        maximum_scale: Some(0),
        ..number(type_name, data_type, digits)
    }
}

/// A case-sensitive character type of at most `max_length` characters.
fn text(type_name: &str, data_type: XdbcDataType, max_length: i32) -> XdbcTypeInfo {
    XdbcTypeInfo {
        literal_prefix: Some("'".to_owned()),
        literal_suffix: Some("'".to_owned()),
        create_params: Some(vec!["length".to_owned()]),
        case_sensitive: true,
        ..base(type_name, data_type, Some(max_length))
    }
}

/// A date/time type: ODBC's SQL_DATA_TYPE is SQL_DATETIME for these, and
/// SQL_DATETIME_SUB says which one. `fraction` is the fractional-second digits.
fn datetime(
    type_name: &str,
    data_type: XdbcDataType,
    display_size: i32,
    subcode: XdbcDatetimeSubcode,
    fraction: Option<i32>,
) -> XdbcTypeInfo {
    XdbcTypeInfo {
        literal_prefix: Some("'".to_owned()),
        literal_suffix: Some("'".to_owned()),
        minimum_scale: fraction,
        maximum_scale: fraction,
        sql_data_type: XdbcDataType::XdbcDatetime,
        datetime_subcode: Some(subcode),
        ..base(type_name, data_type, Some(display_size))
    }
}

/// An interval type: ODBC's SQL_DATA_TYPE is SQL_INTERVAL for these, and
/// SQL_DATETIME_SUB says which one.
fn interval(type_name: &str, subcode: XdbcDatetimeSubcode) -> XdbcTypeInfo {
    XdbcTypeInfo {
        literal_prefix: Some("'".to_owned()),
        literal_suffix: Some("'".to_owned()),
        datetime_subcode: Some(subcode),
        ..base(type_name, XdbcDataType::XdbcInterval, None)
    }
}

/// Every Redshift column type, in XDBC terms.
fn redshift_types() -> Vec<XdbcTypeInfo> {
    use XdbcDataType::*;
    use XdbcDatetimeSubcode::*;
    vec![
        integer("smallint", XdbcSmallint, 5),
        integer("integer", XdbcInteger, 10),
        integer("bigint", XdbcBigint, 19),
        XdbcTypeInfo {
            create_params: Some(vec!["precision".to_owned(), "scale".to_owned()]),
            minimum_scale: Some(0),
            maximum_scale: Some(37),
            ..number("numeric", XdbcDecimal, 38)
        },
        // JDBC-style precisions (digits needed to round-trip a value).
        number("real", XdbcReal, 8),
        number("double precision", XdbcDouble, 17),
        XdbcTypeInfo {
            searchable: Searchable::Basic,
            ..base("boolean", XdbcBit, Some(1))
        },
        text("char", XdbcChar, 4_096),
        text("varchar", XdbcVarchar, 65_535),
        // XDBC_SUBCODE_YEAR is the proto's alias of XDBC_SUBCODE_DATE (1).
        datetime("date", XdbcDate, 10, XdbcSubcodeYear, None),
        datetime("time", XdbcTime, 15, XdbcSubcodeTime, Some(6)),
        datetime("timetz", XdbcTime, 21, XdbcSubcodeTimeWithTimezone, Some(6)),
        datetime(
            "timestamp",
            XdbcTimestamp,
            26,
            XdbcSubcodeTimestamp,
            Some(6),
        ),
        datetime(
            "timestamptz",
            XdbcTimestamp,
            32,
            XdbcSubcodeTimestampWithTimezone,
            Some(6),
        ),
        interval("interval year to month", XdbcSubcodeIntervalYearToMonth),
        XdbcTypeInfo {
            create_params: Some(vec!["precision".to_owned()]),
            minimum_scale: Some(0),
            maximum_scale: Some(6),
            ..interval("interval day to second", XdbcSubcodeIntervalDayToSecond)
        },
        XdbcTypeInfo {
            create_params: Some(vec!["length".to_owned()]),
            searchable: Searchable::Basic,
            ..base("varbyte", XdbcVarbinary, Some(1_024_000))
        },
        // Semi-structured values up to 16 MB; JSON text on the wire.
        XdbcTypeInfo {
            case_sensitive: true,
            searchable: Searchable::Basic,
            ..base("super", XdbcLongvarchar, Some(16_000_000))
        },
        XdbcTypeInfo {
            searchable: Searchable::None,
            ..base("geometry", XdbcLongvarbinary, Some(1_048_447))
        },
        XdbcTypeInfo {
            searchable: Searchable::None,
            ..base("geography", XdbcLongvarbinary, Some(1_048_447))
        },
        XdbcTypeInfo {
            searchable: Searchable::None,
            ..base("hllsketch", XdbcLongvarchar, None)
        },
    ]
}

/// The XDBC type table of GetXdbcTypeInfo: one row per Redshift column type.
pub(crate) static XDBC_TYPE_INFO: LazyLock<XdbcTypeInfoData> = LazyLock::new(|| {
    let mut b = XdbcTypeInfoDataBuilder::new();
    for info in redshift_types() {
        b.append(info);
    }
    b.build().expect("the static XDBC type table builds")
});

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, UnionArray};
    use arrow::datatypes::{Int32Type, UInt32Type};

    use super::*;

    /// The SqlInfos deliberately left out: null when Substrait is unsupported.
    const ABSENT: [SqlInfo; 2] = [
        SqlInfo::FlightSqlServerSubstraitMinVersion,
        SqlInfo::FlightSqlServerSubstraitMaxVersion,
    ];

    /// Every variant of the SqlInfo enum.
    fn all_sql_infos() -> Vec<SqlInfo> {
        (0..1_000)
            .filter_map(|n| SqlInfo::try_from(n).ok())
            .collect()
    }

    fn info_names() -> Vec<u32> {
        let batch = SQL_INFO.record_batch(None).unwrap();
        batch
            .column(0)
            .as_primitive::<UInt32Type>()
            .values()
            .to_vec()
    }

    /// The union type id (0 string, 1 bool, 2 int64, 3 int32, 4 string list,
    /// 5 int32 → int32 list map) of one SqlInfo's value.
    fn value_type(info: SqlInfo) -> i8 {
        let batch = SQL_INFO.record_batch([info as u32]).unwrap();
        assert_eq!(batch.num_rows(), 1, "{info:?}");
        let value = batch
            .column(1)
            .as_any()
            .downcast_ref::<UnionArray>()
            .unwrap();
        value.type_id(0)
    }

    #[test]
    fn every_sql_info_is_answered() {
        let names = info_names();
        let all = all_sql_infos();
        assert_eq!(all.len(), 91);
        for info in all {
            let present = names.contains(&(info as u32));
            assert_eq!(present, !ABSENT.contains(&info), "{info:?}");
        }
        assert_eq!(names.len(), 89);
    }

    #[test]
    fn the_keys_clients_need_are_present() {
        let names = info_names();
        for info in [
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerReadOnly,
            SqlInfo::SqlIdentifierQuoteChar,
            SqlInfo::SqlSupportsConvert,
            SqlInfo::SqlKeywords,
            SqlInfo::SqlDefaultTransactionIsolation,
        ] {
            assert!(names.contains(&(info as u32)), "{info:?}");
        }
        assert!(names.contains(&3) && names.contains(&504) && names.contains(&517));
    }

    #[test]
    fn filtering_by_name_returns_one_row() {
        let batch = SQL_INFO
            .record_batch([SqlInfo::FlightSqlServerName as u32])
            .unwrap();
        assert_eq!(batch.num_rows(), 1);
        let value = batch
            .column(1)
            .as_any()
            .downcast_ref::<UnionArray>()
            .unwrap();
        assert_eq!(value.type_id(0), 0);
        let name = value
            .child(0)
            .as_string::<i32>()
            .value(value.value_offset(0));
        assert_eq!(name, "redshift-flight-sql");

        let two = SQL_INFO
            .record_batch([SqlInfo::FlightSqlServerReadOnly as u32, 504])
            .unwrap();
        assert_eq!(two.num_rows(), 2);
    }

    #[test]
    fn values_have_the_types_clients_read() {
        assert_eq!(value_type(SqlInfo::FlightSqlServerVersion), 0);
        assert_eq!(value_type(SqlInfo::SqlIdentifierQuoteChar), 0);
        assert_eq!(value_type(SqlInfo::FlightSqlServerReadOnly), 1);
        assert_eq!(value_type(SqlInfo::SqlTransactionsSupported), 1);
        assert_eq!(value_type(SqlInfo::SqlIdentifierCase), 2);
        assert_eq!(value_type(SqlInfo::SqlQuotedIdentifierCase), 2);
        assert_eq!(value_type(SqlInfo::SqlNullOrdering), 2);
        assert_eq!(value_type(SqlInfo::SqlDefaultTransactionIsolation), 2);
        assert_eq!(value_type(SqlInfo::SqlMaxStatementLength), 2);
        assert_eq!(value_type(SqlInfo::FlightSqlServerTransaction), 3);
        assert_eq!(value_type(SqlInfo::FlightSqlServerStatementTimeout), 3);
        assert_eq!(value_type(SqlInfo::SqlOuterJoinsSupportLevel), 3);
        assert_eq!(value_type(SqlInfo::SqlSupportedGroupBy), 3);
        assert_eq!(value_type(SqlInfo::SqlKeywords), 4);
        assert_eq!(value_type(SqlInfo::SqlDatetimeFunctions), 4);
        assert_eq!(value_type(SqlInfo::SqlSupportsConvert), 5);
    }

    #[test]
    fn bitmasks_set_one_bit_per_flag() {
        assert_eq!(
            bitmask([
                SqlSupportedUnions::SqlUnion,
                SqlSupportedUnions::SqlUnionAll
            ]),
            0b11
        );
        assert_eq!(
            bitmask([SqlTransactionIsolationLevel::SqlTransactionSerializable]),
            0b1_0000
        );
        assert_eq!(bitmask::<SqlSupportedUnions>([]), 0);
    }

    #[test]
    fn conversions_follow_redshift_casts() {
        use SqlSupportsConvert::*;
        let map = supports_convert();
        let can = |from: SqlSupportsConvert, to: SqlSupportsConvert| {
            map.get(&(from as i32))
                .is_some_and(|targets| targets.contains(&(to as i32)))
        };
        assert!(can(SqlConvertInteger, SqlConvertVarchar));
        assert!(can(SqlConvertVarchar, SqlConvertInteger));
        assert!(can(SqlConvertDecimal, SqlConvertFloat));
        assert!(can(SqlConvertDate, SqlConvertTimestamp));
        assert!(can(SqlConvertTimestamp, SqlConvertDate));
        assert!(can(SqlConvertInteger, SqlConvertBit));
        assert!(can(SqlConvertVarchar, SqlConvertBit));
        assert!(!can(SqlConvertDate, SqlConvertInteger));
        assert!(!can(SqlConvertTinyint, SqlConvertInteger));
        for targets in map.values() {
            assert!(targets.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
        }
    }

    #[test]
    fn one_type_row_per_redshift_type() {
        let batch = XDBC_TYPE_INFO.record_batch(None).unwrap();
        assert_eq!(batch.num_rows(), redshift_types().len());
        assert_eq!(batch.num_rows(), 21);
        let names = batch.column(0).as_string::<i32>();
        let mut seen: Vec<&str> = names.iter().map(Option::unwrap).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 21, "type names are unique");
        for name in [
            "smallint",
            "numeric",
            "varchar",
            "timestamptz",
            "super",
            "hllsketch",
        ] {
            assert!(seen.contains(&name), "{name}");
        }
    }

    #[test]
    fn filtering_by_data_type_works() {
        let varchar = XDBC_TYPE_INFO
            .record_batch(XdbcDataType::XdbcVarchar as i32)
            .unwrap();
        assert_eq!(varchar.num_rows(), 1);
        assert_eq!(varchar.column(0).as_string::<i32>().value(0), "varchar");
        assert_eq!(
            varchar.column(2).as_primitive::<Int32Type>().value(0),
            65_535
        );

        let timestamps = XDBC_TYPE_INFO
            .record_batch(XdbcDataType::XdbcTimestamp as i32)
            .unwrap();
        let names = timestamps.column(0).as_string::<i32>();
        assert_eq!(names.len(), 2);
        assert_eq!(
            (names.value(0), names.value(1)),
            ("timestamp", "timestamptz")
        );
        // SQL_DATA_TYPE is SQL_DATETIME, with the subcode.
        let sql_data_type = timestamps.column(15).as_primitive::<Int32Type>();
        assert_eq!(sql_data_type.value(0), XdbcDataType::XdbcDatetime as i32);
        let subcode = timestamps.column(16).as_primitive::<Int32Type>();
        assert_eq!(
            subcode.value(0),
            XdbcDatetimeSubcode::XdbcSubcodeTimestamp as i32
        );

        let integers = XDBC_TYPE_INFO
            .record_batch(XdbcDataType::XdbcInteger as i32)
            .unwrap();
        assert_eq!(integers.num_rows(), 1);
        let sql_data_type = integers.column(15).as_primitive::<Int32Type>();
        assert_eq!(sql_data_type.value(0), XdbcDataType::XdbcInteger as i32);

        let none = XDBC_TYPE_INFO
            .record_batch(XdbcDataType::XdbcTinyint as i32)
            .unwrap();
        assert_eq!(none.num_rows(), 0);
    }
}
