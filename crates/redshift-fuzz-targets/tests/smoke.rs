//! The CI smoke of the fuzz targets, on stable: each target runs over
//! seeded random mutations of valid inputs (and random bytes), a few
//! thousand per target, so a crash the fuzzer would find in seconds is
//! caught here too. The seeds make every run the same.

use arrow_flight::sql::{
    ActionCreatePreparedStatementRequest, CommandGetTables, CommandStatementQuery,
    ProstMessageExt as _, TicketStatementQuery,
};
use prost::Message as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Inputs per target.
const RUNS: usize = 3000;

/// `seed` with a few random bytes flipped, inserted, removed or appended.
fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.gen_range(0..6) {
        match rng.gen_range(0..4) {
            0 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] = rng.r#gen();
            }
            1 => {
                let i = rng.gen_range(0..=data.len());
                data.insert(i, rng.r#gen());
            }
            2 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data.remove(i);
            }
            _ => data.extend((0..rng.gen_range(1..8)).map(|_| rng.r#gen::<u8>())),
        }
    }
    data
}

fn run(target: fn(&[u8]), seeds: &[Vec<u8>]) {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for i in 0..RUNS {
        let data = if i % 5 == 0 {
            (0..rng.gen_range(0..64))
                .map(|_| rng.r#gen::<u8>())
                .collect()
        } else {
            mutate(&mut rng, &seeds[i % seeds.len()])
        };
        target(&data);
    }
}

fn with_selector(selector: u8, body: Vec<u8>) -> Vec<u8> {
    std::iter::once(selector).chain(body).collect()
}

#[test]
fn ticket() {
    let signer = redshift_flight_sql::ticket::TicketSigner::new(Some(b"fuzz"));
    let handle = redshift_flight_sql::ticket::StatementHandle {
        statement_id: "s".to_owned(),
        ..Default::default()
    };
    let sealed = signer
        .seal(redshift_flight_sql::ticket::PayloadKind::Ticket, &handle)
        .to_vec();
    run(redshift_fuzz_targets::ticket, &[sealed, Vec::new()]);
}

#[test]
fn dispatch() {
    let query = CommandStatementQuery {
        query: "select $1, ?, :n from t".to_owned(),
        transaction_id: None,
    }
    .as_any()
    .encode_to_vec();
    let tables = CommandGetTables {
        include_schema: true,
        ..Default::default()
    }
    .as_any()
    .encode_to_vec();
    let ticket = TicketStatementQuery {
        statement_handle: b"not signed".to_vec().into(),
    }
    .as_any()
    .encode_to_vec();
    let prepare = ActionCreatePreparedStatementRequest {
        query: "select ?".to_owned(),
        transaction_id: None,
    }
    .as_any()
    .encode_to_vec();
    let seeds = [
        with_selector(0, query.clone()),
        with_selector(1, query.clone()),
        with_selector(2, query),
        with_selector(0, tables),
        with_selector(3, ticket),
        with_selector(4, with_selector(0, prepare)),
        with_selector(4, vec![9, 1, 2, 3]),
        with_selector(5, Vec::new()),
    ];
    run(redshift_fuzz_targets::dispatch, &seeds);
}

#[test]
fn sqltext() {
    let seeds = [
        b"select ?, $2, :n, '?', \"$1\", x::int, $$ ? $$, $t$ :m $t$ -- ?\n /* ? */ a$1".to_vec(),
        "select 'é', E'\\'', $18446744073709551616"
            .as_bytes()
            .to_vec(),
    ];
    run(redshift_fuzz_targets::sqltext, &seeds);
}

#[test]
fn convert() {
    let seeds = [
        // CSV: three columns (int4, numeric(10,2), varchar).
        [vec![0x20, 1, 3, 7], b"1,2.50,abc\n,,\"\"\n".to_vec()].concat(),
        // JSON: two columns (int8, timestamptz).
        [
            vec![0x11, 2, 10],
            br#"[[1,"2021-06-21 10:28:00+00"],[null,null]]"#.to_vec(),
        ]
        .concat(),
    ];
    run(redshift_fuzz_targets::convert, &seeds);
}

#[test]
fn emulator_request() {
    let seeds = [
        with_selector(
            0,
            br#"{"Sql":"select :a","Parameters":[{"name":"a","value":"1"}],"ClusterIdentifier":"c","DbUser":"u","Database":"dev"}"#.to_vec(),
        ),
        with_selector(
            3,
            br#"{"Id":"00000000-0000-4000-8000-000000000001:2","NextToken":"xyz"}"#.to_vec(),
        ),
        with_selector(7, br#"{"MaxResults":5,"WorkgroupName":"wg"}"#.to_vec()),
    ];
    run(redshift_fuzz_targets::emulator_request, &seeds);
}
