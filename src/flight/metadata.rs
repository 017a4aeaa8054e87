//! Catalog metadata commands: GetCatalogs (ListDatabases), GetDbSchemas
//! (ListSchemas), GetTables (ListTables, DescribeTable for `include_schema`),
//! GetTableTypes, the key commands (SQL on the catalog through the Data API,
//! values as parameters), GetSqlInfo and GetXdbcTypeInfo. Result schemas are
//! exactly the Flight SQL spec's; answers are cached briefly per principal.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use arrow_flight::sql::metadata::GetTablesBuilder;
use arrow_flight::sql::{
    Command, CommandGetCrossReference, CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables,
    XdbcDataType,
};

use super::gateway::Gateway;
use super::sql_info::{SQL_INFO, XDBC_TYPE_INFO, sql_info};
use crate::auth::Principal;
use crate::dataapi::{ExecuteRequest, SqlParameter};
use crate::error::{GatewayError, Result};

/// Table types ListTables reports.
const TABLE_TYPES: [&str; 7] = [
    "EXTERNAL TABLE",
    "LOCAL TEMPORARY",
    "MATERIALIZED VIEW",
    "SYSTEM TABLE",
    "SYSTEM VIEW",
    "TABLE",
    "VIEW",
];

fn arrow(e: arrow::error::ArrowError) -> GatewayError {
    GatewayError::encode("building a metadata result", e)
}

fn flight(e: arrow_flight::error::FlightError) -> GatewayError {
    GatewayError::encode("building a metadata result", e)
}

/// The schema of GetPrimaryKeys.
fn primary_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]))
}

/// The schema of GetImportedKeys, GetExportedKeys and GetCrossReference.
fn foreign_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("pk_catalog_name", DataType::Utf8, true),
        Field::new("pk_db_schema_name", DataType::Utf8, true),
        Field::new("pk_table_name", DataType::Utf8, false),
        Field::new("pk_column_name", DataType::Utf8, false),
        Field::new("fk_catalog_name", DataType::Utf8, true),
        Field::new("fk_db_schema_name", DataType::Utf8, true),
        Field::new("fk_table_name", DataType::Utf8, false),
        Field::new("fk_column_name", DataType::Utf8, false),
        Field::new("key_sequence", DataType::Int32, false),
        Field::new("fk_key_name", DataType::Utf8, true),
        Field::new("pk_key_name", DataType::Utf8, true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ]))
}

/// Whether `command` is a metadata command, and the schema it answers with.
pub(crate) fn metadata_schema(command: &Command) -> Option<SchemaRef> {
    Some(match command {
        Command::CommandGetCatalogs(c) => (*c).into_builder().schema(),
        Command::CommandGetDbSchemas(c) => c.clone().into_builder().schema(),
        Command::CommandGetTables(c) => c.clone().into_builder().schema(),
        Command::CommandGetTableTypes(c) => (*c).into_builder().schema(),
        Command::CommandGetSqlInfo(c) => c.clone().into_builder(&SQL_INFO).schema(),
        Command::CommandGetXdbcTypeInfo(c) => (*c).into_builder(&XDBC_TYPE_INFO).schema(),
        Command::CommandGetPrimaryKeys(_) => primary_keys_schema(),
        Command::CommandGetImportedKeys(_)
        | Command::CommandGetExportedKeys(_)
        | Command::CommandGetCrossReference(_) => foreign_keys_schema(),
        _ => return None,
    })
}

/// Which foreign keys a key command asks for.
struct KeyFilter {
    pk: Option<(Option<String>, String)>,
    fk: Option<(Option<String>, String)>,
    catalog: Option<String>,
}

impl Gateway {
    /// GetFlightInfo of a metadata command: computed now (so errors keep their
    /// status code), served by DoGet from the brief cache. The ticket is the command.
    pub(crate) async fn metadata_flight_info(
        &self,
        command: Command,
        descriptor: arrow_flight::FlightDescriptor,
        principal: &Principal,
    ) -> Result<arrow_flight::FlightInfo> {
        let batch = self.metadata(&command, principal).await?;
        let ticket = prost::Message::encode_to_vec(&command.into_any());
        let endpoint =
            arrow_flight::FlightEndpoint::new().with_ticket(arrow_flight::Ticket::new(ticket));
        arrow_flight::FlightInfo::new()
            .try_with_schema(&batch.schema())
            .map_err(arrow)
            .map(|info| {
                info.with_endpoint(endpoint)
                    .with_descriptor(descriptor)
                    .with_total_records(i64::try_from(batch.num_rows()).unwrap_or(-1))
                    .with_ordered(true)
            })
    }

    /// The answer to a metadata command (from the brief cache when it can).
    pub(crate) async fn metadata(
        &self,
        command: &Command,
        principal: &Principal,
    ) -> Result<RecordBatch> {
        let key = (
            principal.owner(),
            prost::Message::encode_to_vec(&command.clone().into_any()),
        );
        if let Some(hit) = self.metadata_cache.get(&key).await {
            return Ok(hit);
        }
        let batch = self.compute_metadata(command).await?;
        self.metadata_cache.insert(key, batch.clone()).await;
        Ok(batch)
    }

    async fn compute_metadata(&self, command: &Command) -> Result<RecordBatch> {
        match command {
            Command::CommandGetCatalogs(c) => {
                let mut builder = (*c).into_builder();
                for db in self.statements.api().list_databases().await? {
                    builder.append(db);
                }
                builder.build().map_err(flight)
            }
            Command::CommandGetDbSchemas(c) => self.db_schemas(c).await,
            Command::CommandGetTables(c) => self.tables(c).await,
            Command::CommandGetTableTypes(c) => table_types(*c),
            Command::CommandGetSqlInfo(c) => c
                .clone()
                .into_builder(sql_info(self.read_only))
                .build()
                .map_err(flight),
            Command::CommandGetXdbcTypeInfo(c) => {
                (*c).into_builder(&XDBC_TYPE_INFO).build().map_err(flight)
            }
            Command::CommandGetPrimaryKeys(c) => {
                self.primary_keys(c.catalog.clone(), c.db_schema.clone(), c.table.clone())
                    .await
            }
            Command::CommandGetImportedKeys(c) => {
                self.foreign_keys(KeyFilter {
                    pk: None,
                    fk: Some((c.db_schema.clone(), c.table.clone())),
                    catalog: c.catalog.clone(),
                })
                .await
            }
            Command::CommandGetExportedKeys(c) => {
                self.foreign_keys(KeyFilter {
                    pk: Some((c.db_schema.clone(), c.table.clone())),
                    fk: None,
                    catalog: c.catalog.clone(),
                })
                .await
            }
            Command::CommandGetCrossReference(c) => self.cross_reference(c).await,
            _ => Err(GatewayError::Internal("not a metadata command".to_owned())),
        }
    }

    /// The databases a catalog filter names (all of them when unset).
    async fn catalogs(&self, catalog: Option<&String>) -> Result<Vec<String>> {
        match catalog {
            Some(c) => Ok(vec![c.clone()]),
            None => Ok(self.statements.api().list_databases().await?),
        }
    }

    async fn db_schemas(&self, c: &CommandGetDbSchemas) -> Result<RecordBatch> {
        let mut builder = c.clone().into_builder();
        for db in self.catalogs(c.catalog.as_ref()).await? {
            match self
                .statements
                .api()
                .list_schemas(&db, c.db_schema_filter_pattern.as_deref())
                .await
            {
                Ok(schemas) => {
                    for schema in schemas {
                        builder.append(&db, schema);
                    }
                }
                // Another database may not be readable with these credentials.
                Err(e) if c.catalog.is_none() => {
                    tracing::warn!(database = %db, error = %e, "skipping a database in GetDbSchemas");
                }
                Err(e) => return Err(e.into()),
            }
        }
        builder.build().map_err(flight)
    }

    async fn tables(&self, c: &CommandGetTables) -> Result<RecordBatch> {
        let mut builder: GetTablesBuilder = c.clone().into_builder();
        for db in self.catalogs(c.catalog.as_ref()).await? {
            let tables = match self
                .statements
                .api()
                .list_tables(
                    &db,
                    c.db_schema_filter_pattern.as_deref(),
                    c.table_name_filter_pattern.as_deref(),
                )
                .await
            {
                Ok(tables) => tables,
                Err(e) if c.catalog.is_none() => {
                    tracing::warn!(database = %db, error = %e, "skipping a database in GetTables");
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let tables: Vec<_> = tables
                .into_iter()
                .filter(|t| c.table_types.is_empty() || c.table_types.contains(&t.table_type))
                .collect();
            let mut columns: BTreeMap<(String, String), Vec<crate::dataapi::ColumnMetadata>> =
                BTreeMap::new();
            if c.include_schema && !tables.is_empty() {
                // One DescribeTable per table for a few tables, one for the whole
                // database (all pages) otherwise.
                if tables.len() <= 8 {
                    for t in &tables {
                        let cols = self
                            .statements
                            .api()
                            .describe_table(&db, Some(&t.schema), Some(&t.name))
                            .await?;
                        columns.insert((t.schema.clone(), t.name.clone()), cols);
                    }
                } else {
                    for col in self
                        .statements
                        .api()
                        .describe_table(&db, None, None)
                        .await?
                    {
                        columns
                            .entry((col.schema_name.clone(), col.table_name.clone()))
                            .or_default()
                            .push(col);
                    }
                }
            }
            for t in tables {
                let schema = match columns.get(&(t.schema.clone(), t.name.clone())) {
                    Some(cols) => with_xdbc(&crate::convert::schema(cols, Some(&db)), cols),
                    None => Arc::new(Schema::empty()),
                };
                builder
                    .append(&db, &t.schema, &t.name, &t.table_type, &schema)
                    .map_err(flight)?;
            }
        }
        builder.build().map_err(flight)
    }

    async fn primary_keys(
        &self,
        catalog: Option<String>,
        schema: Option<String>,
        table: String,
    ) -> Result<RecordBatch> {
        let mut sql = String::from(
            "select current_database()::varchar as catalog_name, n.nspname::varchar as db_schema_name, \
               c.relname::varchar as table_name, a.attname::varchar as column_name, \
               con.conname::varchar as key_name, i::int4 as key_sequence \
             from pg_constraint con \
             join pg_class c on c.oid = con.conrelid \
             join pg_namespace n on n.oid = c.relnamespace \
             cross join generate_series(1, 32) i \
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[i] \
             where con.contype = 'p' and c.relname = :table",
        );
        let mut parameters = vec![SqlParameter {
            name: "table".to_owned(),
            value: table,
        }];
        if let Some(s) = schema.filter(|s| !s.is_empty()) {
            sql.push_str(" and n.nspname = :schema");
            parameters.push(SqlParameter {
                name: "schema".to_owned(),
                value: s,
            });
        }
        sql.push_str(" order by 2, 3, 5, 6");
        self.catalog_query(sql, parameters, catalog, primary_keys_schema())
            .await
    }

    async fn cross_reference(&self, c: &CommandGetCrossReference) -> Result<RecordBatch> {
        self.foreign_keys(KeyFilter {
            pk: Some((c.pk_db_schema.clone(), c.pk_table.clone())),
            fk: Some((c.fk_db_schema.clone(), c.fk_table.clone())),
            catalog: c.fk_catalog.clone().or_else(|| c.pk_catalog.clone()),
        })
        .await
    }

    async fn foreign_keys(&self, filter: KeyFilter) -> Result<RecordBatch> {
        let rule = |column: &str| {
            format!(
                "(case con.{column} when 'c' then 0 when 'r' then 1 when 'n' then 2 when 'a' then 3 when 'd' then 4 else 3 end)::int2"
            )
        };
        let mut sql = format!(
            "select current_database()::varchar as pk_catalog_name, pn.nspname::varchar as pk_db_schema_name, \
               pc.relname::varchar as pk_table_name, pa.attname::varchar as pk_column_name, \
               current_database()::varchar as fk_catalog_name, fn.nspname::varchar as fk_db_schema_name, \
               fc.relname::varchar as fk_table_name, fa.attname::varchar as fk_column_name, \
               i::int4 as key_sequence, con.conname::varchar as fk_key_name, \
               (select p.conname from pg_constraint p where p.conrelid = con.confrelid and p.contype = 'p' limit 1)::varchar as pk_key_name, \
               {} as update_rule, {} as delete_rule \
             from pg_constraint con \
             join pg_class fc on fc.oid = con.conrelid join pg_namespace fn on fn.oid = fc.relnamespace \
             join pg_class pc on pc.oid = con.confrelid join pg_namespace pn on pn.oid = pc.relnamespace \
             cross join generate_series(1, 32) i \
             join pg_attribute fa on fa.attrelid = con.conrelid and fa.attnum = con.conkey[i] \
             join pg_attribute pa on pa.attrelid = con.confrelid and pa.attnum = con.confkey[i] \
             where con.contype = 'f'",
            rule("confupdtype"),
            rule("confdeltype")
        );
        let mut parameters = Vec::new();
        let mut order = "1, 2, 3, 11, 9";
        for (side, relation, namespace, key) in [
            ("pk", "pc", "pn", &filter.pk),
            ("fk", "fc", "fn", &filter.fk),
        ] {
            if let Some((schema, table)) = key {
                sql.push_str(&format!(" and {relation}.relname = :{side}_table"));
                parameters.push(SqlParameter {
                    name: format!("{side}_table"),
                    value: table.clone(),
                });
                if let Some(s) = schema.as_ref().filter(|s| !s.is_empty()) {
                    sql.push_str(&format!(" and {namespace}.nspname = :{side}_schema"));
                    parameters.push(SqlParameter {
                        name: format!("{side}_schema"),
                        value: s.clone(),
                    });
                }
            }
        }
        if filter.pk.is_none() {
            order = "5, 6, 7, 10, 9";
        }
        sql.push_str(&format!(" order by {order}"));
        self.catalog_query(sql, parameters, filter.catalog, foreign_keys_schema())
            .await
    }

    /// Runs a catalog query and casts its columns to the spec's schema.
    async fn catalog_query(
        &self,
        sql: String,
        parameters: Vec<SqlParameter>,
        catalog: Option<String>,
        schema: SchemaRef,
    ) -> Result<RecordBatch> {
        let (_, batches) = self
            .statements
            .run_to_batches(
                ExecuteRequest {
                    sql,
                    parameters,
                    database: catalog.filter(|c| !c.is_empty()),
                    result_format: self.statements.result_format(),
                    ..ExecuteRequest::default()
                },
                None,
            )
            .await?;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for (i, field) in schema.fields().iter().enumerate() {
            let parts: Vec<ArrayRef> = batches
                .iter()
                .map(|b| arrow::compute::cast(b.column(i), field.data_type()))
                .collect::<std::result::Result<_, _>>()
                .map_err(arrow)?;
            let refs: Vec<&dyn arrow::array::Array> = parts.iter().map(AsRef::as_ref).collect();
            columns.push(if refs.is_empty() {
                arrow::array::new_empty_array(field.data_type())
            } else {
                arrow::compute::concat(&refs).map_err(arrow)?
            });
        }
        RecordBatch::try_new(schema, columns).map_err(arrow)
    }
}

fn table_types(c: CommandGetTableTypes) -> Result<RecordBatch> {
    let mut builder = c.into_builder();
    for t in TABLE_TYPES {
        builder.append(t);
    }
    builder.build().map_err(flight)
}

/// The XDBC data type of an Arrow type, as ADBC maps it.
fn xdbc_data_type(data_type: &DataType) -> Option<XdbcDataType> {
    use XdbcDataType::*;
    Some(match data_type {
        DataType::Int16 => XdbcSmallint,
        DataType::Int32 => XdbcInteger,
        DataType::Int64 => XdbcBigint,
        DataType::Float32 => XdbcReal,
        DataType::Float64 => XdbcDouble,
        DataType::Decimal128(..) => XdbcDecimal,
        DataType::Boolean => XdbcBit,
        DataType::Utf8 | DataType::LargeUtf8 => XdbcVarchar,
        DataType::Date32 => XdbcDate,
        DataType::Time64(_) => XdbcTime,
        DataType::Timestamp(..) => XdbcTimestamp,
        DataType::Binary => XdbcVarbinary,
        _ => return None,
    })
}

/// A table schema of GetTables with the `XDBC_*` field metadata (the names
/// ADBC reads for `get_objects`) beside the `ARROW:FLIGHT:SQL:*` keys: type
/// name and code, column size (precision or declared length), decimal
/// digits, radix, nullability both ways, octet length, ordinal position.
fn with_xdbc(schema: &SchemaRef, columns: &[crate::dataapi::ColumnMetadata]) -> SchemaRef {
    let fields = schema
        .fields()
        .iter()
        .zip(columns)
        .enumerate()
        .map(|(i, (field, c))| {
            let mut metadata = field.metadata().clone();
            let mut put = |key: &str, value: String| {
                metadata.insert(key.to_owned(), value);
            };
            put("XDBC_TYPE_NAME", c.type_name.clone());
            if let Some(code) = xdbc_data_type(field.data_type()) {
                put("XDBC_DATA_TYPE", (code as i32).to_string());
            }
            if c.precision > 0 {
                put("XDBC_COLUMN_SIZE", c.precision.to_string());
            }
            let numeric = matches!(
                field.data_type(),
                DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::Float32
                    | DataType::Float64
                    | DataType::Decimal128(..)
            );
            if numeric || matches!(field.data_type(), DataType::Timestamp(..)) {
                put("XDBC_DECIMAL_DIGITS", c.scale.to_string());
            }
            if numeric {
                put("XDBC_NUM_PREC_RADIX", "10".to_owned());
            }
            if field.data_type() == &DataType::Utf8 && c.precision > 0 {
                put("XDBC_CHAR_OCTET_LENGTH", c.precision.to_string());
            }
            let nullable = c.nullable != 0;
            put("XDBC_NULLABLE", if nullable { "1" } else { "0" }.to_owned());
            put(
                "XDBC_IS_NULLABLE",
                if nullable { "YES" } else { "NO" }.to_owned(),
            );
            put("XDBC_IS_AUTOINCREMENT", "0".to_owned());
            put("ORDINAL_POSITION", (i + 1).to_string());
            Arc::new(field.as_ref().clone().with_metadata(metadata))
        })
        .collect::<Vec<FieldRef>>();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}
