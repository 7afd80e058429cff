//! The first pass: which users, roles and databases exist, which `root` users are left out,
//! whether the keys are in byte order; over parts of the input on several threads.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::ops::Range;
use std::panic;
use std::thread::{self, ScopedJoinHandle};

use crate::dump::{scan_records, Key, KeyKind};
use crate::error::{Error, Result};
use crate::model::{user_facts, Password, Release, ShapeError};
use crate::source::{line_parts, Rereadable};

/// What the first pass learns: the users, roles and databases that exist, and the `root` users
/// that are left out. Ids are kept as `u128` (16 bytes a user), role and database names per
/// tenant.
#[derive(Debug, Default)]
pub(super) struct SourceIndex {
    pub(super) dropped_roots: HashSet<u128>,
    pub(super) users: HashSet<u128>,
    pub(super) roles: HashSet<(String, String)>,
    pub(super) dbs: HashMap<String, HashSet<String>>,
    /// Every key sorts after the one before it, as in every dump CnosDB writes: then no key
    /// repeats except right after itself, which the second pass sees without remembering keys.
    pub(super) sorted: bool,
    /// Keys of more than one cluster: `--rename-cluster` can make two of them equal.
    pub(super) several_clusters: bool,
}

/// The first pass, running on its own thread while the second pass converts the records
/// that do not depend on it.
pub(super) struct FirstPass<'s> {
    thread: Option<ScopedJoinHandle<'s, Result<SourceIndex>>>,
    result: Option<Result<SourceIndex>>,
}

impl<'s> FirstPass<'s> {
    /// Starts the first pass over `input` on a thread of `scope`.
    pub(super) fn start<S: Rereadable + ?Sized>(
        scope: &'s thread::Scope<'s, '_>,
        input: &'s S,
        keep_target_root: bool,
    ) -> Self {
        FirstPass {
            thread: Some(scope.spawn(move || index_source(input, keep_target_root))),
            result: None,
        }
    }

    /// Waits for the first pass (a panic in it goes on in this thread).
    fn wait(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.result = Some(thread.join().unwrap_or_else(|p| panic::resume_unwind(p)));
        }
    }

    /// True once the first pass is done (joined now if it just finished); never waits.
    pub(super) fn poll(&mut self) -> bool {
        if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
            self.wait();
        }
        self.thread.is_none()
    }

    /// The index, once the first pass is done; an error when it failed (its own error is what
    /// [`transform`] reports).
    pub(super) fn get(&mut self) -> Result<&SourceIndex> {
        self.wait();
        match &self.result {
            Some(Ok(index)) => Ok(index),
            _ => Err(Error::io(
                "reading the input",
                io::Error::other("the first pass failed"),
            )),
        }
    }

    /// The first pass's error, if it failed.
    pub(super) fn finish(mut self) -> Result<()> {
        self.wait();
        match self.result.take() {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

/// A user's id and whether it has no password.
pub(super) fn user_identity(
    value: &str,
    release: Release,
) -> std::result::Result<(u128, bool), ShapeError> {
    let facts =
        user_facts(value).ok_or_else(|| ShapeError::not_json("is not a JSON object".into()))?;
    let id = facts.id.ok_or_else(|| ShapeError::missing("id", release))?;
    Ok((id, facts.password == Password::None))
}

/// First pass: the users, roles and databases that exist, and the `root` users to leave out
/// (all of them with `keep_target_root`, else those without a password); whether the keys are in
/// byte order, and whether they name several clusters.
///
/// It parses only keys with as many segments as a user, a role or a database key, and checks
/// nothing: the second pass reads every line with [`DumpReader`] and reports each problem with
/// its line. An input of 16 MiB or more is read in parts (whole lines), one thread each, up to
/// one per core and four in all; the parts' answers are joined in input order.
fn index_source<S: Rereadable + ?Sized>(input: &S, keep_target_root: bool) -> Result<SourceIndex> {
    let io_error = |e| Error::io("reading the input", e);
    let threads = thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let parts = line_parts(input, threads, 8 << 20).map_err(io_error)?;
    let indexes: Vec<io::Result<PartIndex>> = thread::scope(|scope| {
        let index_part = |range: &Range<u64>| {
            let part = input.reader_at(range.start).take(range.end - range.start);
            index_part(part, keep_target_root)
        };
        let (first, rest) = parts.split_first().unwrap_or((&(0..0), &[]));
        let others: Vec<_> = rest
            .iter()
            .map(|r| scope.spawn(move || index_part(r)))
            .collect();
        let mut all = vec![index_part(first)];
        all.extend(
            others
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|p| panic::resume_unwind(p))),
        );
        all
    });
    let mut whole = PartIndex::new();
    for part in indexes {
        whole.append(part.map_err(io_error)?);
    }
    Ok(whole.index)
}

/// What the first pass learns from a part of the input: joined in input order, the parts tell
/// what one pass over the whole would.
struct PartIndex {
    index: SourceIndex,
    /// The first and last keys of the part's records.
    first_key: Option<Vec<u8>>,
    last_key: Option<Vec<u8>>,
    /// The cluster of the first key that names one.
    first_cluster: Option<Vec<u8>>,
}

impl PartIndex {
    /// Nothing read yet.
    fn new() -> Self {
        PartIndex {
            index: SourceIndex {
                sorted: true,
                ..SourceIndex::default()
            },
            first_key: None,
            last_key: None,
            first_cluster: None,
        }
    }

    /// Adds the part that follows this one.
    fn append(&mut self, next: PartIndex) {
        let index = &mut self.index;
        index.sorted &= next.index.sorted
            && match (&self.last_key, &next.first_key) {
                (Some(last), Some(first)) => last < first,
                _ => true,
            };
        index.several_clusters |= next.index.several_clusters
            || matches!((&self.first_cluster, &next.first_cluster), (Some(a), Some(b)) if a != b);
        index.dropped_roots.extend(next.index.dropped_roots);
        index.users.extend(next.index.users);
        index.roles.extend(next.index.roles);
        for (tenant, dbs) in next.index.dbs {
            index.dbs.entry(tenant).or_default().extend(dbs);
        }
        self.first_key = self.first_key.take().or(next.first_key);
        self.last_key = next.last_key.or(self.last_key.take());
        self.first_cluster = self.first_cluster.take().or(next.first_cluster);
    }
}

/// The first pass over one part of the input (whole lines).
fn index_part<R: Read>(input: R, keep_target_root: bool) -> io::Result<PartIndex> {
    let mut part = PartIndex::new();
    let mut prev_key: Vec<u8> = Vec::new();
    scan_records(input, |key, value| {
        let index = &mut part.index;
        index.sorted &= key > prev_key.as_slice();
        prev_key.clear();
        prev_key.extend_from_slice(key);
        if part.first_key.is_none() {
            part.first_key = Some(key.to_vec());
        }
        // The cluster: the first segment of a key with two or more.
        let rest = key.strip_prefix(b"/").unwrap_or(key);
        let cluster = memchr::memchr(b'/', rest).map(|at| &rest[..at]);
        if let Some(cluster) = cluster.filter(|c| !c.is_empty()) {
            match &part.first_cluster {
                None => part.first_cluster = Some(cluster.to_vec()),
                Some(first) if first.as_slice() != cluster => index.several_clusters = true,
                _ => {}
            }
        }
        // `/{c}/users/{u}` has three slashes, `/{c}/tenants/{t}/roles/{r}` and
        // `/{c}/tenants/{t}/dbs/{db}` five; buckets and tables, most keys, have seven.
        let slashes = key.iter().filter(|&&b| b == b'/').count();
        if slashes != 3 && slashes != 5 {
            return;
        }
        let (Ok(key), Ok(value)) = (std::str::from_utf8(key), std::str::from_utf8(value)) else {
            return;
        };
        match Key::parse(key).kind {
            KeyKind::User { name } => {
                let Ok((id, no_password)) = user_identity(value, Release::V2_4_3) else {
                    return;
                };
                if name == "root" && (keep_target_root || no_password) {
                    index.dropped_roots.insert(id);
                } else {
                    index.users.insert(id);
                }
            }
            KeyKind::Role { tenant, role } => {
                index.roles.insert((tenant.to_string(), role.to_string()));
            }
            KeyKind::Database { tenant, db } => {
                index
                    .dbs
                    .entry(tenant.to_string())
                    .or_default()
                    .insert(db.to_string());
            }
            _ => {}
        }
    })?;
    part.last_key = (part.first_key.is_some()).then_some(prev_key);
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a test can compare of a [`SourceIndex`].
    fn summary(i: &SourceIndex) -> String {
        let mut users: Vec<_> = i.users.iter().collect();
        users.sort();
        let mut roots: Vec<_> = i.dropped_roots.iter().collect();
        roots.sort();
        let mut roles: Vec<_> = i.roles.iter().collect();
        roles.sort();
        let mut dbs: Vec<_> = i
            .dbs
            .iter()
            .flat_map(|(t, d)| d.iter().map(move |d| (t, d)))
            .collect();
        dbs.sort();
        format!(
            "{users:?} {roots:?} {roles:?} {dbs:?} sorted={} several={}",
            i.sorted, i.several_clusters
        )
    }

    proptest::proptest! {
        #[test]
        fn the_first_pass_in_parts_learns_what_one_pass_learns(
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "/c/tenants/t: {}",
                    "/c/tenants/t/dbs/a: {}",
                    "/c/tenants/t/dbs/b: {}",
                    "/c/tenants/u/dbs/a: {}",
                    "/c/tenants/t/roles/r: {}",
                    "/c/tenants/t/members/1: {}",
                    "/c/users/root: {\"id\":1,\"desc\":{\"password\":\"\",\"options\":{}}}",
                    "/c/users/u: {\"id\":2,\"desc\":{\"password\":\"x\",\"options\":{}}}",
                    "/d/users/v: {\"id\":3,\"desc\":{\"password\":\"x\",\"options\":{}}}",
                    "/c/tenants/t/dbs/a/buckets/1: {}",
                    "* /c/tenants/t/dbs/a/schemas/x: {}",
                    "****** frame ******",
                    ": no key",
                    "",
                ]),
                0..24,
            ),
            parts in 1usize..6,
            keep_root in proptest::bool::ANY,
        ) {
            let text = lines.join("\n");
            let one = index_part(text.as_bytes(), keep_root).unwrap().index;
            // Every line boundary is a possible start of a part: try the ones line_parts picks.
            let split = line_parts(text.as_bytes(), parts, 1).unwrap();
            let mut whole: Option<PartIndex> = None;
            for range in &split {
                let part = index_part(
                    &text.as_bytes()[range.start as usize..range.end as usize],
                    keep_root,
                )
                .unwrap();
                match whole.as_mut() {
                    None => whole = Some(part),
                    Some(w) => w.append(part),
                }
            }
            let whole = whole.unwrap().index;
            proptest::prop_assert_eq!(summary(&one), summary(&whole));
            proptest::prop_assert_eq!(
                summary(&index_source(text.as_bytes(), keep_root).unwrap()),
                summary(&one)
            );
        }
    }
}
