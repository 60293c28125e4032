//! Three replicas converge: random transactions on random replicas (new people, card-one
//! overwrites, card-many adds and retracts, retractions, refs to existing people, user causes,
//! whole-entity retractions) interleaved with a random schedule of syncs between pairs of
//! replicas, each sync by one of the three ways facts travel (two-way sync over loopback TCP
//! against a server thread, a CAR file through memory, in-process block exchange with
//! `for_each_commit` and `merge`). After a final round of syncs every replica must hold the same
//! facts (`state()`), give the same answers to a fixed set of EDN, PomoLogic (the prelude over
//! the history) and SQL queries on every backend, show current values that agree with the
//! prelude's `lww`, `aw_set` and `conflicts`, be unchanged by merging everything again, and
//! agree with a fourth replica that received the same commits one at a time in a shuffled
//! (causally valid) order.
//!
//! Entity ids differ between replicas, so answers that contain entities are compared through
//! their global ids (`Db::global_id`). Each replica mints its global ids from its own seed
//! (drawn by the case), so a failing case replays with the same CIDs and shrinks.
//!
//! Two store bugs the property found (conflicts between two assertions of the same value) are
//! kept below as plain tests.

use cid::Cid;
use pomo::query::{Arg, Backend, PreparedQuery, prepare};
use pomo::replica::{Options as SyncOptions, Replica, StoreReplica};
use pomo::runtime::dataflow::Config;
use pomo::runtime::jit::{Jit, Mode};
use pomo::runtime::store::{CommitBlock, Db, MergeReport, State, Store};
use pomo::sql::{Outcome, Session};
use pomo::types::Value;
use pomo::{Input, Options};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = r#"[{:db/ident :p/name :db/unique :db.unique/identity}
  {:db/ident :p/city :db/cardinality :db.cardinality/one}
  {:db/ident :p/tags :db/cardinality :db.cardinality/many}
  {:db/ident :p/friend :db/valueType :db.type/ref}]"#;

/// The SQL table over the same attributes (`:p/name`, `:p/city`); people written in EDN also
/// carry `:sql.row/p true`, so that a person without a city is a row too.
const DDL: &str = "CREATE TABLE p(name TEXT, city TEXT)";
const SQL_QUERY: &str = "SELECT name, city FROM p";

/// The people every replica starts with (so that concurrent edits of one person are common).
const BASE: &str = r#"[{:db/id "a" :p/name "ann" :sql.row/p true :p/city "oslo" :p/tags ["red"]}
  {:p/name "bob" :sql.row/p true :p/city "rome" :p/friend "a"}
  {:p/name "cy" :sql.row/p true :p/tags ["green" "blue"]}]"#;

const NAMES: &[&str] = &["ann", "bob", "cy", "dee", "eve"];
const CITIES: &[&str] = &["oslo", "rome", "lima", "kyiv"];
const TAGS: &[&str] = &["red", "green", "blue"];

/// A query compared across replicas and backends: its text (EDN, or PomoLogic) and whether it
/// reads the history view. Integers in answers are entity ids (no attribute here holds a number), so
/// they are compared through global ids.
struct Q {
    name: &'static str,
    text: String,
    history: bool,
}

/// The prelude's rules for the three attributes, as one relation `out(q, e, v, f)` (one program,
/// so that each backend compiles and starts it once per replica): the `lww` registers of
/// `:p/city` and `:p/friend`, the `aw_set` of `:p/tags`, and the losing values in `conflicts`.
const PRELUDE_QUERY: &str = r#".output out(q, e, v, f) relation
out(q: "lww p/city", e: ?e, v: ?v, f: nil) :- lww(e: ?e, a: :p/city, v: ?v).
out(q: "lww p/friend", e: ?e, v: ?v, f: nil) :- lww(e: ?e, a: :p/friend, v: ?v).
out(q: "aw_set p/tags", e: ?e, v: ?v, f: nil) :- aw_set(e: ?e, a: :p/tags, v: ?v).
out(q: "conflicts p/city", e: ?e, v: ?v, f: ?f) :- conflicts(e: ?e, a: :p/city, v: ?v, fact: ?f).
out(q: "conflicts p/friend", e: ?e, v: ?v, f: ?f) :- conflicts(e: ?e, a: :p/friend, v: ?v, fact: ?f).
"#;

fn queries() -> Vec<Q> {
    let edn = |name, text: &str| Q {
        name,
        text: text.to_string(),
        history: false,
    };
    vec![
        edn(
            "names and cities",
            "[:find ?n ?c :where [?e :p/name ?n] [?e :p/city ?c]]",
        ),
        edn(
            "names and tags",
            "[:find ?n ?t :where [?e :p/name ?n] [?e :p/tags ?t]]",
        ),
        edn(
            "names and friends' names",
            "[:find ?n ?m :where [?e :p/name ?n] [?e :p/friend ?f] [?f :p/name ?m]]",
        ),
        edn(
            "entities, attributes and values",
            "[:find ?e ?a ?v :where [?e ?a ?v] [(namespace ?a) ?ns] [(= ?ns \"p\")]]",
        ),
        Q {
            name: "history of the attributes",
            text: "[:find ?e ?a ?v ?added :where [?e ?a ?v _ ?added] [(namespace ?a) ?ns] [(= ?ns \"p\")]]".into(),
            history: true,
        },
        Q {
            name: "prelude",
            text: format!("{PRELUDE_QUERY}\n{}", pomo::stdlib::PRELUDE),
            history: true,
        },
    ]
}

fn backends() -> Vec<(&'static str, Backend)> {
    vec![
        ("reference", Backend::Reference),
        ("jit", Backend::Jit(Mode::Native)),
        ("dataflow", Backend::Dataflow(Config::default())),
    ]
}

/// One change on one replica. People are named by position in the replica's own list of
/// people (sorted by name, then global id), so a step means something on every replica.
#[derive(Clone, Debug)]
enum Op {
    /// `{:p/name n :p/city c :p/tags [..]}`: a new person, or an upsert of one the replica
    /// knows by name (names come from a small pool, so replicas collide).
    Person {
        name: u8,
        city: Option<u8>,
        tags: Vec<u8>,
    },
    /// A card-one overwrite.
    City {
        who: u8,
        city: u8,
    },
    RetractCity {
        who: u8,
    },
    Tag {
        who: u8,
        tag: u8,
    },
    /// Retracts one of the person's current tags.
    RetractTag {
        who: u8,
        which: u8,
    },
    /// A ref to an existing person.
    Friend {
        who: u8,
        whom: u8,
    },
    RetractFriend {
        who: u8,
    },
    /// An entity map with `:db/causes` naming a fact (assertion or retraction) the replica holds.
    Caused {
        who: u8,
        tag: bool,
        value: u8,
        cause: u16,
    },
    /// `[:db/retractEntity e]`.
    Forget {
        who: u8,
    },
}

#[derive(Clone, Copy, Debug)]
enum Via {
    /// Two-way sync over TCP: the first replica serves, the second connects.
    Loopback,
    /// A CAR file of the first, imported into the second.
    Car,
    /// Every commit and fact block of the first, merged into the second.
    Blocks,
}

#[derive(Clone, Debug)]
enum Step {
    Tx(usize, Op),
    Sync(usize, usize, Via),
}

fn op() -> impl Strategy<Value = Op> {
    let n = NAMES.len() as u8;
    let c = CITIES.len() as u8;
    let t = TAGS.len() as u8;
    prop_oneof![
        3 => (0..n, proptest::option::of(0..c), proptest::collection::vec(0..t, 0..3))
            .prop_map(|(name, city, tags)| Op::Person { name, city, tags }),
        4 => (any::<u8>(), 0..c).prop_map(|(who, city)| Op::City { who, city }),
        2 => any::<u8>().prop_map(|who| Op::RetractCity { who }),
        2 => (any::<u8>(), 0..t).prop_map(|(who, tag)| Op::Tag { who, tag }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(who, which)| Op::RetractTag { who, which }),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(who, whom)| Op::Friend { who, whom }),
        1 => any::<u8>().prop_map(|who| Op::RetractFriend { who }),
        2 => (any::<u8>(), any::<bool>(), any::<u8>(), any::<u16>())
            .prop_map(|(who, tag, value, cause)| Op::Caused { who, tag, value, cause }),
        1 => any::<u8>().prop_map(|who| Op::Forget { who }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let pair = (0usize..3, 0usize..2).prop_map(|(a, d)| (a, (a + 1 + d) % 3));
    let via = prop_oneof![Just(Via::Loopback), Just(Via::Car), Just(Via::Blocks)];
    prop_oneof![
        5 => (0usize..3, op()).prop_map(|(r, o)| Step::Tx(r, o)),
        1 => (pair, via).prop_map(|((a, b), v)| Step::Sync(a, b, v)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Transactions.

fn transact(store: &mut Store, text: &str) {
    let node = pomo::grammar::edn::parse_one(text).expect("the tx-data parses");
    let ops = pomo::edn_data::tx_data(store.db().schema(), &node)
        .unwrap_or_else(|e| panic!("tx-data {text}: {}", e.message));
    if let Err(e) = store.transact(ops) {
        panic!("the transaction {text} failed: {} ({})", e.message, e.kind);
    }
}

/// The replica's people: `(name, entity)`, sorted by name, then by global id (two replicas that
/// created the same name concurrently hold two entities with it).
fn people(db: &Db) -> Vec<(String, i64)> {
    let mut out: Vec<(String, pomo::runtime::store::Gid, i64)> = db
        .datoms_eavt(None, Some("p/name"), None)
        .into_iter()
        .filter_map(|d| match d.v {
            Value::Str(n) => Some((n, db.global_id(d.e).expect("a person has a global id"), d.e)),
            _ => None,
        })
        .collect();
    out.sort();
    out.into_iter().map(|(n, _, e)| (n, e)).collect()
}

fn pick<T: Clone>(xs: &[T], i: impl Into<usize>) -> Option<T> {
    (!xs.is_empty()).then(|| xs[i.into() % xs.len()].clone())
}

fn current(db: &Db, e: i64, a: &str) -> Vec<Value> {
    db.datoms_eavt(Some(e), Some(a), None)
        .into_iter()
        .map(|d| d.v)
        .collect()
}

fn lit(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(n) => n.to_string(),
        other => panic!("unexpected value {other:?}"),
    }
}

/// The tx-data of `op` on this replica, or None when it names nothing the replica holds.
fn tx_text(db: &Db, op: &Op) -> Option<String> {
    let ps = people(db);
    let who = |w: u8| pick(&ps, w).map(|(_, e)| e);
    Some(match op {
        Op::Person { name, city, tags } => {
            let mut m = format!("{{:p/name {:?} :sql.row/p true", NAMES[*name as usize]);
            if let Some(c) = city {
                m += &format!(" :p/city {:?}", CITIES[*c as usize]);
            }
            if !tags.is_empty() {
                let ts: Vec<String> = tags
                    .iter()
                    .map(|t| format!("{:?}", TAGS[*t as usize]))
                    .collect();
                m += &format!(" :p/tags [{}]", ts.join(" "));
            }
            format!("[{m}}}]")
        }
        Op::City { who: w, city } => {
            format!(
                "[[:db/add {} :p/city {:?}]]",
                who(*w)?,
                CITIES[*city as usize]
            )
        }
        Op::RetractCity { who: w } => {
            let e = who(*w)?;
            let v = pick(&current(db, e, "p/city"), 0usize)?;
            format!("[[:db/retract {e} :p/city {}]]", lit(&v))
        }
        Op::Tag { who: w, tag } => {
            format!("[[:db/add {} :p/tags {:?}]]", who(*w)?, TAGS[*tag as usize])
        }
        Op::RetractTag { who: w, which } => {
            let e = who(*w)?;
            let v = pick(&current(db, e, "p/tags"), *which)?;
            format!("[[:db/retract {e} :p/tags {}]]", lit(&v))
        }
        Op::Friend { who: w, whom } => {
            format!("[[:db/add {} :p/friend {}]]", who(*w)?, who(*whom)?)
        }
        Op::RetractFriend { who: w } => {
            let e = who(*w)?;
            let v = pick(&current(db, e, "p/friend"), 0usize)?;
            format!("[[:db/retract {e} :p/friend {}]]", lit(&v))
        }
        Op::Caused {
            who: w,
            tag,
            value,
            cause,
        } => {
            let e = who(*w)?;
            let h = db.history();
            let facts: Vec<String> = h
                .datoms()
                .into_iter()
                .filter(|d| d.a.starts_with("p/"))
                .map(|d| {
                    h.fact_cid(&d)
                        .unwrap_or_else(|| panic!("no fact CID for the history datom {d:?}"))
                })
                .collect();
            let c = pick(&facts, *cause)?;
            let (a, v) = if *tag {
                ("p/tags", TAGS[*value as usize % TAGS.len()])
            } else {
                ("p/city", CITIES[*value as usize % CITIES.len()])
            };
            format!("[{{:db/id {e} :{a} {v:?} :db/causes [{c:?}]}}]")
        }
        Op::Forget { who: w } => format!("[[:db/retractEntity {}]]", who(*w)?),
    })
}

// ---------------------------------------------------------------------------------------------
// Moving facts.

/// Every commit and fact block `from` holds, merged into `to`.
fn pull(to: &mut Store, from: &Store) -> MergeReport {
    let (mut commits, mut facts) = (Vec::new(), Vec::new());
    from.for_each_commit(|c, f| {
        commits.push((c.cid, c.block));
        facts.extend(f);
        Ok(())
    })
    .expect("the commits read");
    to.merge(commits, facts)
        .unwrap_or_else(|e| panic!("the merge failed: {}", e.message))
}

fn car(to: &mut Store, from: &Store) {
    let mut buf = Vec::new();
    pomo::replica::export_car(from, &mut buf).expect("the export writes");
    pomo::replica::import_car(to, &buf[..]).expect("the import merges");
}

/// A store shared with the server thread, seen through the sync protocol.
struct Shared(Arc<Mutex<Store>>);

impl Replica for Shared {
    fn heads(&self) -> Result<Vec<Cid>, String> {
        StoreReplica::reading(&self.0.lock().unwrap()).heads()
    }
    fn has_commit(&self, c: &Cid) -> Result<bool, String> {
        StoreReplica::reading(&self.0.lock().unwrap()).has_commit(c)
    }
    fn commit(&self, c: &Cid) -> Result<Option<pomo_sync::Commit>, String> {
        StoreReplica::reading(&self.0.lock().unwrap()).commit(c)
    }
    fn parents(&self, c: &Cid) -> Result<Option<Vec<Cid>>, String> {
        StoreReplica::reading(&self.0.lock().unwrap()).parents(c)
    }
    fn has_fact(&self, c: &Cid) -> Result<bool, String> {
        StoreReplica::reading(&self.0.lock().unwrap()).has_fact(c)
    }
    fn fact(&self, c: &Cid) -> Result<Option<Vec<u8>>, String> {
        StoreReplica::reading(&self.0.lock().unwrap()).fact(c)
    }
    fn parse_commit(&self, block: &[u8]) -> Result<(Vec<Cid>, Vec<Cid>), String> {
        StoreReplica::reading(&self.0.lock().unwrap()).parse_commit(block)
    }
    fn merge(
        &mut self,
        commits: Vec<(Cid, Vec<u8>)>,
        facts: Vec<(Cid, Vec<u8>)>,
    ) -> Result<u64, String> {
        StoreReplica::new(&mut self.0.lock().unwrap()).merge(commits, facts)
    }
}

/// A two-way sync: `server` is served on a loopback port for one connection, `client` syncs
/// with it. Returns the server's store.
fn loopback(server: Store, client: &mut Store) -> Store {
    let shared = Arc::new(Mutex::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().unwrap().to_string();
    let served = shared.clone();
    let thread = std::thread::spawn(move || {
        let opts = SyncOptions {
            max_connections: Some(1),
            ..SyncOptions::default()
        };
        let mut events = Vec::new();
        pomo::replica::serve(
            listener,
            move || Ok(Box::new(Shared(served.clone())) as Box<dyn Replica>),
            &opts,
            |e| events.push(format!("{e:?}")),
        )
        .expect("the server runs");
        events
    });
    let synced = pomo::replica::sync(client, &addr, &SyncOptions::default());
    if synced.is_err() {
        // The server may still wait for its one connection: give it one, so that it ends.
        let _ = std::net::TcpStream::connect(&addr);
    }
    let events = thread.join().expect("the server thread ends");
    if let Err(e) = synced {
        panic!("the sync failed: {e} (server events: {events:?})");
    }
    Arc::try_unwrap(shared)
        .ok()
        .expect("the server released the store")
        .into_inner()
        .unwrap()
}

fn sync(reps: &mut [Option<Store>], a: usize, b: usize, via: Via) {
    let from = reps[a].take().unwrap();
    let to = reps[b].as_mut().unwrap();
    let from = match via {
        Via::Loopback => {
            let from = loopback(from, to);
            assert_eq!(
                from.state().unwrap(),
                to.state().unwrap(),
                "replicas {a} and {b} differ after a two-way sync"
            );
            from
        }
        Via::Car => {
            car(to, &from);
            from
        }
        Via::Blocks => {
            pull(to, &from);
            from
        }
    };
    reps[a] = Some(from);
}

// ---------------------------------------------------------------------------------------------
// Answers.

type Rows = BTreeSet<Vec<String>>;

/// A value as compared across replicas: an entity id by its global id.
fn show(db: &Db, v: &Value) -> String {
    match v {
        Value::Int(e) => format!(
            "gid {:?}",
            db.global_id(*e)
                .unwrap_or_else(|| panic!("entity {e} has no global id"))
        ),
        other => other.to_string(),
    }
}

/// A query's rows, entities by global id.
fn normalize(db: &Db, v: Value) -> Rows {
    let rows = match v {
        Value::Set(rows) | Value::Tuple(rows) => rows,
        other => vec![other],
    };
    rows.into_iter()
        .map(|r| match r {
            Value::Tuple(cs) => cs.iter().map(|c| show(db, c)).collect(),
            other => vec![show(db, &other)],
        })
        .collect()
}

/// Runs a query on a backend; the JIT is one kept across runs (compiled kernels are reused,
/// as `Pomo` does).
fn run(p: &PreparedQuery, db: Db, backend: &Backend, jit: &mut Jit) -> Value {
    let registry = pomo::stdlib::Registry::new();
    let args = vec![Arg::Db(db)];
    match backend {
        Backend::Jit(_) => p.run_jit(jit, args, &registry),
        b => p.run_on(args, &registry, b),
    }
    .unwrap_or_else(|e| panic!("the query failed: {}", e.message))
}

/// The compiled queries: the EDN and prelude ones, and the SQL query over the table.
struct Prepared {
    qs: Vec<Q>,
    plans: Vec<PreparedQuery>,
    sql: PreparedQuery,
    jit: Jit,
}

impl Prepared {
    fn new() -> Prepared {
        let qs = queries();
        let plans = qs
            .iter()
            .map(|q| {
                let input = if !q.text.starts_with('[') {
                    Input::Logic(&q.text)
                } else {
                    Input::Edn {
                        query: &q.text,
                        rules: None,
                    }
                };
                prepare(&input, &Options::default())
                    .unwrap_or_else(|d| panic!("`{}` does not compile: {d:?}", q.name))
            })
            .collect();
        let catalog = pomo::compiler::sql::Catalog::default();
        let sql_text = format!("{DDL}; {SQL_QUERY}");
        let sql = prepare(
            &Input::Sql {
                text: &sql_text,
                catalog: &catalog,
            },
            &Options::default(),
        )
        .expect("the SQL query compiles");
        Prepared {
            qs,
            plans,
            sql,
            jit: Jit::new(Mode::Native),
        }
    }

    /// The prelude query's rows on the reference evaluator.
    fn prelude(&mut self, store: &Store) -> Rows {
        let i = self.qs.iter().position(|q| q.name == "prelude").unwrap();
        let db = store.db();
        normalize(
            &db,
            run(
                &self.plans[i],
                db.history(),
                &Backend::Reference,
                &mut self.jit,
            ),
        )
    }

    /// Every query's answer on every backend; fails if the backends disagree on this replica.
    fn answers(
        &mut self,
        store: &Store,
        who: &str,
    ) -> Result<BTreeMap<&'static str, Rows>, TestCaseError> {
        let mut out = BTreeMap::new();
        let db = store.db();
        let all = self
            .qs
            .iter()
            .zip(&self.plans)
            .map(|(q, p)| (q.name, p, q.history))
            .chain(std::iter::once(("sql", &self.sql, false)));
        for (name, p, history) in all {
            let view = if history { db.history() } else { db.clone() };
            let mut first: Option<Rows> = None;
            for (bname, b) in backends() {
                let rows = normalize(&db, run(p, view.clone(), &b, &mut self.jit));
                if let Some(f) = &first {
                    prop_assert_eq!(
                        f,
                        &rows,
                        "{}: `{}` on {} differs from the reference (reference left)",
                        who,
                        name,
                        bname
                    );
                } else {
                    first = Some(rows);
                }
            }
            out.insert(name, first.unwrap());
        }
        Ok(out)
    }
}

/// What the store itself shows, in the shape of the prelude query's rows: current cities,
/// friends and tags, and the conflicts it keeps beside the winning city and friend.
fn resolved(store: &Store) -> Rows {
    let db = store.db();
    let mut out = Rows::new();
    for (q, a) in [
        ("lww p/city", "p/city"),
        ("lww p/friend", "p/friend"),
        ("aw_set p/tags", "p/tags"),
    ] {
        for d in db.datoms_eavt(None, Some(a), None) {
            out.insert(vec![
                Value::Str(q.into()).to_string(),
                show(&db, &Value::Int(d.e)),
                show(&db, &d.v),
                Value::Nil.to_string(),
            ]);
        }
    }
    let h = db.history();
    for (q, a) in [
        ("conflicts p/city", "p/city"),
        ("conflicts p/friend", "p/friend"),
    ] {
        let es: BTreeSet<i64> = h
            .datoms_eavt(None, Some(a), None)
            .into_iter()
            .map(|d| d.e)
            .collect();
        for e in es {
            for (v, c) in db.conflicts(e, a) {
                out.insert(vec![
                    Value::Str(q.into()).to_string(),
                    show(&db, &Value::Int(e)),
                    show(&db, &v),
                    Value::Cid(c).to_string(),
                ]);
            }
        }
    }
    out
}

/// A fresh replica that receives every commit of `sources` (each read from the first source
/// that holds it), one merge per commit, in a shuffled order (driven by `seed`) that keeps
/// parents before children.
fn replay(sources: &[&Store], seed: u64) -> Store {
    let mut commits: Vec<CommitBlock> = Vec::new();
    let mut blocks: HashMap<Cid, Vec<u8>> = HashMap::new();
    let mut rng = seed | 1;
    let mut next = || {
        // xorshift64: a reproducible shuffle without another dependency.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut seen = BTreeSet::new();
    for (i, s) in sources.iter().enumerate() {
        s.for_each_commit(|c, f| {
            blocks.extend(f);
            if seen.insert(c.cid) {
                commits.push(c);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("source {i}: {}", e.message));
    }
    let mut store = Store::in_memory();
    let mut held: BTreeSet<Cid> = BTreeSet::new();
    while !commits.is_empty() {
        let ready: Vec<usize> = (0..commits.len())
            .filter(|&i| commits[i].parents.iter().all(|p| held.contains(p)))
            .collect();
        assert!(!ready.is_empty(), "a commit names a parent no source holds");
        let i = ready[next() as usize % ready.len()];
        let CommitBlock {
            cid, block, facts, ..
        } = commits.swap_remove(i);
        let facts = facts
            .iter()
            .map(|f| (*f, blocks.get(f).expect("every fact block is read").clone()))
            .collect();
        store
            .merge(vec![(cid, block)], facts)
            .unwrap_or_else(|e| panic!("replaying commit {cid}: {}", e.message));
        held.insert(cid);
    }
    store
}

/// The replicas after the schema, the SQL table and the base people, written once and merged
/// into each. Each store mints its global ids from its own seed (`ids * 4 + i`, distinct per
/// replica, so no two replicas mint the same id) and stamps transactions with a fixed clock,
/// so that a failing case replays with the same CIDs and shrinks.
fn start(ids: u64) -> Vec<Option<Store>> {
    let fresh = |i: u64| {
        let mut s = Store::in_memory();
        s.set_id_seed(Some(ids.wrapping_mul(4).wrapping_add(i)));
        s.set_clock(Some(1_700_000_000_000));
        s
    };
    let mut genesis = Session::new(fresh(3));
    transact(genesis.store_mut(), SCHEMA);
    genesis.execute(DDL).expect("the table is created");
    transact(genesis.store_mut(), BASE);
    (0..3)
        .map(|i| {
            let mut s = fresh(i);
            pull(&mut s, genesis.store());
            Some(s)
        })
        .collect()
}

fn check(steps: &[Step], seed: u64, prepared: &mut Prepared) -> Result<(), TestCaseError> {
    let mut reps = start(seed);
    for (k, s) in steps.iter().enumerate() {
        let touched = match s {
            Step::Tx(r, op) => {
                let store = reps[*r].as_mut().unwrap();
                if let Some(text) = tx_text(&store.db(), op) {
                    transact(store, &text);
                }
                vec![*r]
            }
            Step::Sync(a, b, via) => {
                sync(&mut reps, *a, *b, *via);
                vec![*a, *b]
            }
        };
        // Between syncs too, the store's resolution is the prelude's (on the reference
        // evaluator, which is cheap).
        for r in touched {
            let store = reps[r].as_ref().unwrap();
            prop_assert_eq!(
                resolved(store),
                prepared.prelude(store),
                "after step {} ({:?}), replica {}: the store's current values and conflicts \
                 (left) differ from the prelude's",
                k,
                s,
                r
            );
        }
    }
    // A full round: 0 and 1 swap, 1 and 2 swap (1 and 2 now hold everything), 2's CAR to 0.
    sync(&mut reps, 0, 1, Via::Loopback);
    sync(&mut reps, 1, 2, Via::Loopback);
    sync(&mut reps, 2, 0, Via::Car);
    let mut reps: Vec<Store> = reps.into_iter().map(Option::unwrap).collect();

    let states: Vec<_> = reps.iter().map(|s| s.state().unwrap()).collect();
    let sorted_heads = |st: &State| st.heads.iter().copied().collect::<BTreeSet<Cid>>();
    for (i, st) in states.iter().enumerate().skip(1) {
        prop_assert_eq!(
            (st.facts, st.cid),
            (states[0].facts, states[0].cid),
            "replica {} holds other facts than replica 0",
            i
        );
        prop_assert_eq!(
            sorted_heads(st),
            sorted_heads(&states[0]),
            "replica {} has other heads than replica 0",
            i
        );
    }

    let first = prepared.answers(&reps[0], "replica 0")?;
    for (i, r) in reps.iter().enumerate() {
        if i > 0 {
            let a = prepared.answers(r, &format!("replica {i}"))?;
            prop_assert_eq!(
                &a,
                &first,
                "replica {} answers differently from replica 0",
                i
            );
        }
        prop_assert_eq!(
            resolved(r),
            first["prelude"].clone(),
            "replica {}: the store's current values and conflicts (left) differ from the prelude's",
            i
        );
    }
    // SQL reads the resolved names and cities (and NULL for a person without a city).
    let with_city: Rows = first["sql"]
        .iter()
        .filter(|r| r[1] != Value::Nil.to_string())
        .cloned()
        .collect();
    prop_assert_eq!(
        &with_city,
        &first["names and cities"],
        "SQL's rows with a city (left) differ from the EDN query's"
    );

    // Merging everything again changes nothing.
    for i in 0..3 {
        for j in 0..3 {
            if i == j {
                continue;
            }
            let (to, from) = if i < j {
                let (l, r) = reps.split_at_mut(j);
                (&mut l[i], &r[0])
            } else {
                let (l, r) = reps.split_at_mut(i);
                (&mut r[0], &l[j])
            };
            let again = pull(to, from);
            prop_assert_eq!(
                (again.commits, again.new_facts),
                (0, 0),
                "merging replica {} into {} again wrote something",
                j,
                i
            );
            prop_assert_eq!(&to.state().unwrap(), &states[i], "replica {} changed", i);
        }
    }

    // The order of merges does not matter.
    let fourth = replay(&[&reps[2], &reps[0], &reps[1]], seed);
    let st = fourth.state().unwrap();
    prop_assert_eq!(
        (st.facts, st.cid),
        (states[0].facts, states[0].cid),
        "a replica that merged the commits one by one in another order holds other facts"
    );
    let a = prepared.answers(&fourth, "the fourth replica")?;
    prop_assert_eq!(&a, &first, "the fourth replica answers differently");
    prop_assert_eq!(
        resolved(&fourth),
        first["prelude"].clone(),
        "the fourth replica's store resolves differently from the prelude"
    );

    // The SQL catalog travelled with the facts: a session on each replica knows the table.
    for (i, r) in reps.into_iter().enumerate() {
        let mut session = Session::new(r);
        for (bname, b) in backends() {
            session = session.with_backend(b);
            let out = session
                .execute(SQL_QUERY)
                .unwrap_or_else(|e| panic!("replica {i}: SQL on {bname}: {e:?}"));
            let Some(Outcome::Rows(rows)) = out.into_iter().last() else {
                panic!("replica {i}: SQL on {bname} returned no rows");
            };
            let db = session.store().db();
            let got: Rows = rows
                .rows
                .iter()
                .map(|r| r.iter().map(|v| show(&db, v)).collect())
                .collect();
            prop_assert_eq!(
                &got,
                &first["sql"],
                "replica {}: a SQL session on {}",
                i,
                bname
            );
        }
    }
    Ok(())
}

thread_local! {
    /// Compiled once for all cases (proptest runs them on one thread).
    static PREPARED: std::cell::RefCell<Prepared> = std::cell::RefCell::new(Prepared::new());
}

proptest! {
    // 24 cases per run by default (about 25 s in a debug build); PROPTEST_CASES=N runs more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn three_replicas_converge(
        steps in proptest::collection::vec(step(), 4..32),
        seed in any::<u64>(),
    ) {
        PREPARED.with_borrow_mut(|p| check(&steps, seed, p))?;
    }
}

// ---------------------------------------------------------------------------------------------
// Minimal cases the property found.

/// The prelude's `conflicts` rows for `(e, :p/city)`, as `(value, fact)`.
fn prelude_conflicts(store: &Store, e: i64) -> BTreeSet<(String, String)> {
    let e = show(&store.db(), &Value::Int(e));
    Prepared::new()
        .prelude(store)
        .into_iter()
        .filter(|r| r[0] == Value::Str("conflicts p/city".into()).to_string() && r[1] == e)
        .map(|r| (r[2].clone(), r[3].clone()))
        .collect()
}

fn ann(store: &Store) -> i64 {
    people(&store.db())
        .into_iter()
        .find(|(n, _)| n == "ann")
        .unwrap()
        .1
}

/// The CID of the fact behind the current `:p/city` of `e`.
fn current_city_fact(store: &Store, e: i64) -> Option<String> {
    let db = store.db();
    let d = db.datoms_eavt(Some(e), Some("p/city"), None).pop()?;
    db.fact_cid(&d).map(|c| Value::Cid(c).to_string())
}

/// The CIDs of the assertions of `:p/city v` on `e` in the history.
fn city_facts(store: &Store, e: i64, v: &str) -> BTreeSet<String> {
    let h = store.db().history();
    h.datoms_eavt(Some(e), Some("p/city"), Some(&Value::Str(v.into())))
        .into_iter()
        .filter(|d| d.added)
        .map(|d| Value::Cid(h.fact_cid(&d).unwrap()).to_string())
        .collect()
}

#[test]
fn conflicts_name_the_losing_assertion_when_both_wrote_the_same_value() {
    // Two replicas concurrently set ann's city to the same value "lima" through two different
    // facts (one carries a user cause, so the CIDs differ). The larger CID wins; the other
    // assertion is the conflict, and the store of every replica and the prelude must name it.
    let mut reps = start(1);
    let mut a = reps[0].take().unwrap();
    let mut b = reps[1].take().unwrap();
    let ea = ann(&a);
    transact(&mut a, &format!("[[:db/add {ea} :p/city \"lima\"]]"));
    let eb = ann(&b);
    let name = b
        .db()
        .datoms_eavt(Some(eb), Some("p/name"), None)
        .pop()
        .unwrap();
    let cause = b.db().fact_cid(&name).unwrap();
    transact(
        &mut b,
        &format!("[{{:db/id {eb} :p/city \"lima\" :db/causes [{cause:?}]}}]"),
    );
    pull(&mut a, &b);
    pull(&mut b, &a);
    assert_eq!(a.state().unwrap(), b.state().unwrap());
    let facts = city_facts(&a, ea, "lima");
    assert_eq!(facts.len(), 2, "two assertions of lima: {facts:?}");
    let loser = facts.iter().next().unwrap().clone();
    let want: BTreeSet<(String, String)> = [(Value::Str("lima".into()).to_string(), loser)].into();
    assert_eq!(
        prelude_conflicts(&a, ea),
        want,
        "the prelude names the smaller CID as the loser"
    );
    for (r, st, e) in [("a", &a, ea), ("b", &b, eb)] {
        let got: BTreeSet<(String, String)> = st
            .db()
            .conflicts(e, "p/city")
            .into_iter()
            .map(|(v, c)| (v.to_string(), Value::Cid(c).to_string()))
            .collect();
        assert_eq!(
            got,
            want,
            "replica {r}: Db::conflicts (left) names another fact than the losing assertion \
             (right); the assertions: {facts:?}, the current datom's fact: {:?}",
            current_city_fact(st, e)
        );
    }
}

#[test]
fn a_retracted_winner_leaves_no_conflict_beside_the_reasserted_loser() {
    // Both replicas write ann's city concurrently; after a sync one value wins. The replica
    // whose value lost writes it again (the new assertion names both old ones as causes),
    // while the other replica retracts the winning value. After the next sync the only
    // assertion head is the re-assertion: the city is the re-asserted value and there is no
    // conflict, in the prelude and in the store of both replicas.
    let mut reps = start(1);
    let mut a = reps[0].take().unwrap();
    let mut b = reps[1].take().unwrap();
    let (ea, eb) = (ann(&a), ann(&b));
    transact(&mut a, &format!("[[:db/add {ea} :p/city \"lima\"]]"));
    transact(&mut b, &format!("[[:db/add {eb} :p/city \"kyiv\"]]"));
    pull(&mut a, &b);
    pull(&mut b, &a);
    let kyiv_won = current(&a.db(), ea, "p/city") == [Value::Str("kyiv".into())];
    let (lost, won, retracting) = if kyiv_won {
        ("lima", "kyiv", "b")
    } else {
        ("kyiv", "lima", "a")
    };
    let (loser, e_l, winner, e_w) = if kyiv_won {
        (&mut a, ea, &mut b, eb)
    } else {
        (&mut b, eb, &mut a, ea)
    };
    let original = city_facts(loser, e_l, lost);
    transact(loser, &format!("[[:db/add {e_l} :p/city {lost:?}]]"));
    transact(winner, &format!("[[:db/retract {e_w} :p/city {won:?}]]"));
    pull(&mut a, &b);
    pull(&mut b, &a);
    assert_eq!(a.state().unwrap(), b.state().unwrap());
    assert!(
        prelude_conflicts(&a, ea).is_empty(),
        "the prelude sees one assertion head"
    );
    for (r, st, e) in [("a", &a, ea), ("b", &b, eb)] {
        assert_eq!(
            current(&st.db(), e, "p/city"),
            [Value::Str(lost.into())],
            "replica {r}: the re-asserted value is current"
        );
        assert_eq!(
            st.db().conflicts(e, "p/city"),
            [],
            "replica {r} reports a conflict beside the current value {lost:?} (replica \
             {retracting} retracted {won:?}); the first assertion of {lost:?}: {original:?}, \
             all of them: {:?}, the current datom's fact: {:?}",
            city_facts(st, e, lost),
            current_city_fact(st, e)
        );
    }
}
