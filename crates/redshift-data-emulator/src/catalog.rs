//! Catalog operations from PostgreSQL's catalogs: ListDatabases, ListSchemas,
//! ListTables, DescribeTable, and the table/nullability part of a result's
//! ColumnMetadata.

use std::collections::HashMap;

use tokio_postgres::{Client, Column};

use crate::error::{ApiError, redshift_error};
use crate::model::{CatalogInput, validate_identity};
use crate::paging::{page_size, paginate};
use crate::responses::{
    DescribeTableResponse, ListDatabasesResponse, ListSchemasResponse, ListTablesResponse,
    TableMember,
};
use crate::results::ColumnMetadata;
use crate::state::State;

/// ColumnMetadata for a result, with schema, table and NOT NULL looked up for
/// columns that come straight from a table.
pub(crate) async fn result_metadata(client: &Client, columns: &[Column]) -> Vec<ColumnMetadata> {
    let mut metadata: Vec<ColumnMetadata> = columns
        .iter()
        .map(|c| ColumnMetadata::new(c.name(), c.type_(), c.type_modifier()))
        .collect();
    let oids: Vec<u32> = columns
        .iter()
        .filter_map(|c| c.table_oid().filter(|oid| *oid != 0))
        .collect();
    if oids.is_empty() {
        return metadata;
    }
    let rows = client
        .query(
            "select c.oid, a.attnum, n.nspname::text, c.relname::text, a.attnotnull \
             from pg_attribute a join pg_class c on c.oid = a.attrelid \
             join pg_namespace n on n.oid = c.relnamespace \
             where a.attrelid = any($1::oid[]) and a.attnum > 0",
            &[&oids],
        )
        .await;
    let Ok(rows) = rows else {
        return metadata;
    };
    let mut by_column: HashMap<(u32, i16), (String, String, bool)> = HashMap::new();
    for row in rows {
        by_column.insert(
            (row.get(0), row.get(1)),
            (row.get(2), row.get(3), row.get(4)),
        );
    }
    for (meta, column) in metadata.iter_mut().zip(columns) {
        if let (Some(oid), Some(attnum)) = (column.table_oid(), column.column_id())
            && let Some((schema, table, not_null)) = by_column.get(&(oid, attnum))
        {
            meta.schema_name.clone_from(schema);
            meta.table_name.clone_from(table);
            meta.nullable = i32::from(!*not_null);
        }
    }
    metadata
}

fn database_error(e: &tokio_postgres::Error) -> ApiError {
    match e.as_db_error() {
        // A missing database or a refused login is the caller's mistake.
        Some(db) if db.code().code().starts_with("3D") || db.code().code().starts_with("28") => {
            ApiError::validation(redshift_error(e))
        }
        _ => ApiError::InternalServer(redshift_error(e)),
    }
}

impl State {
    async fn catalog_client(
        &self,
        input: &CatalogInput,
        database_required: bool,
    ) -> Result<(Client, String), ApiError> {
        validate_identity(&input.identity, false)?;
        let database = match (&input.database, database_required) {
            (Some(d), _) => d.clone(),
            (None, true) => {
                return Err(ApiError::validation(
                    "1 validation error detected: Value null at 'database' failed to satisfy constraint: Member must not be null",
                ));
            }
            (None, false) => self.config.default_database.clone(),
        };
        // The Data API connects to ConnectedDatabase and reads Database's catalog
        // from there; PostgreSQL cannot read another database's catalog, so the
        // emulator checks that ConnectedDatabase exists and reads from Database.
        if let Some(connected) = &input.connected_database {
            let conn = self
                .connector
                .connect(connected)
                .await
                .map_err(|e| database_error(&e))?;
            drop(conn);
        }
        let conn = self
            .connector
            .connect(&database)
            .await
            .map_err(|e| database_error(&e))?;
        Ok((conn.client, database))
    }

    /// ListDatabases.
    pub(crate) async fn list_databases(
        &self,
        input: CatalogInput,
    ) -> Result<ListDatabasesResponse, ApiError> {
        let max = page_size(input.max_results, 1000)?;
        let (client, _) = self.catalog_client(&input, false).await?;
        let rows = client
            .query(
                "select datname::text from pg_database where not datistemplate and datallowconn order by datname",
                &[],
            )
            .await
            .map_err(|e| database_error(&e))?;
        let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let (databases, next_token) = paginate(names, input.next_token.as_deref(), max)?;
        Ok(ListDatabasesResponse {
            databases,
            next_token,
        })
    }

    /// ListSchemas (SchemaPattern is a LIKE pattern).
    pub(crate) async fn list_schemas(
        &self,
        input: CatalogInput,
    ) -> Result<ListSchemasResponse, ApiError> {
        let max = page_size(input.max_results, 1000)?;
        let (client, _) = self.catalog_client(&input, true).await?;
        let pattern = input
            .schema_pattern
            .clone()
            .unwrap_or_else(|| "%".to_owned());
        let rows = client
            .query(
                "select nspname::text from pg_namespace where nspname like $1 \
                 and nspname not like 'pg\\_toast%' and nspname not like 'pg\\_temp\\_%' \
                 order by nspname",
                &[&pattern],
            )
            .await
            .map_err(|e| database_error(&e))?;
        let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let (schemas, next_token) = paginate(names, input.next_token.as_deref(), max)?;
        Ok(ListSchemasResponse {
            schemas,
            next_token,
        })
    }

    /// ListTables (SchemaPattern and TablePattern are LIKE patterns).
    pub(crate) async fn list_tables(
        &self,
        input: CatalogInput,
    ) -> Result<ListTablesResponse, ApiError> {
        let max = page_size(input.max_results, 1000)?;
        let (client, _) = self.catalog_client(&input, true).await?;
        let schema = input
            .schema_pattern
            .clone()
            .unwrap_or_else(|| "%".to_owned());
        let table = input
            .table_pattern
            .clone()
            .unwrap_or_else(|| "%".to_owned());
        let rows = client
            .query(
                "select n.nspname::text, c.relname::text, \
                   case when n.nspname in ('pg_catalog', 'information_schema') then \
                          case when c.relkind in ('v', 'm') then 'SYSTEM VIEW' else 'SYSTEM TABLE' end \
                        when n.nspname like 'pg\\_temp\\_%' then 'LOCAL TEMPORARY' \
                        when c.relkind = 'v' then 'VIEW' \
                        when c.relkind = 'm' then 'MATERIALIZED VIEW' \
                        when c.relkind = 'f' then 'EXTERNAL TABLE' \
                        else 'TABLE' end \
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace \
                 where c.relkind in ('r', 'p', 'v', 'm', 'f') \
                   and n.nspname like $1 and c.relname like $2 \
                   and n.nspname not like 'pg\\_toast%' \
                 order by n.nspname, c.relname",
                &[&schema, &table],
            )
            .await
            .map_err(|e| database_error(&e))?;
        let tables = rows
            .iter()
            .map(|r| TableMember {
                schema: r.get(0),
                name: r.get(1),
                kind: r.get(2),
            })
            .collect();
        let (tables, next_token) = paginate(tables, input.next_token.as_deref(), max)?;
        Ok(ListTablesResponse { tables, next_token })
    }

    /// DescribeTable: the columns of one table (or of all matching tables).
    pub(crate) async fn describe_table(
        &self,
        input: CatalogInput,
    ) -> Result<DescribeTableResponse, ApiError> {
        let max = page_size(input.max_results, 1000)?;
        let (client, _) = self.catalog_client(&input, true).await?;
        let rows = client
            .query(
                "select n.nspname::text, c.relname::text, a.attname::text, a.atttypid, a.atttypmod, \
                        a.attnotnull, pg_get_expr(d.adbin, d.adrelid) \
                 from pg_attribute a \
                 join pg_class c on c.oid = a.attrelid \
                 join pg_namespace n on n.oid = c.relnamespace \
                 left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum \
                 where a.attnum > 0 and not a.attisdropped \
                   and c.relkind in ('r', 'p', 'v', 'm', 'f') \
                   and ($1::text is null or n.nspname = $1) \
                   and ($2::text is null or c.relname = $2) \
                   and n.nspname not like 'pg\\_toast%' \
                 order by n.nspname, c.relname, a.attnum",
                &[&input.schema, &input.table],
            )
            .await
            .map_err(|e| database_error(&e))?;
        let mut columns = Vec::with_capacity(rows.len());
        for row in &rows {
            let oid: u32 = row.get(3);
            let ty = tokio_postgres::types::Type::from_oid(oid)
                .unwrap_or(tokio_postgres::types::Type::UNKNOWN);
            let mut meta = ColumnMetadata::new(row.get::<_, &str>(2), &ty, row.get(4));
            if ty == tokio_postgres::types::Type::UNKNOWN {
                // A type tokio-postgres does not know (an enum, a domain): name it from the catalog.
                if let Ok(r) = client
                    .query_one("select format_type($1, $2)", &[&oid, &row.get::<_, i32>(4)])
                    .await
                {
                    meta.type_name = r.get(0);
                }
            }
            meta.schema_name = row.get(0);
            meta.table_name = row.get(1);
            meta.nullable = i32::from(!row.get::<_, bool>(5));
            meta.column_default = row.get(6);
            columns.push(meta);
        }
        if columns.is_empty() && input.table.is_some() {
            return Err(ApiError::not_found(
                format!(
                    "Table {} does not exist in database {}",
                    input.table.as_deref().unwrap_or_default(),
                    input.database.as_deref().unwrap_or_default()
                ),
                input.table.clone().unwrap_or_default(),
            ));
        }
        let (column_list, next_token) = paginate(columns, input.next_token.as_deref(), max)?;
        Ok(DescribeTableResponse {
            table_name: input.table,
            column_list,
            next_token,
        })
    }
}
