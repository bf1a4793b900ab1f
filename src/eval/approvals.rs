//! Approvals as seats: which of the change's approvals count, and who fills the
//! seats each required group has.

use super::Ctx;
use crate::policy::{GroupDef, Policy};
use crate::verdict::{ApprovalStatus, IgnoreReason, Ignored};

/// The approvals part of a verdict.
#[derive(Default)]
pub(super) struct Seats {
    pub(super) statuses: Vec<ApprovalStatus>,
    pub(super) ignored: Vec<Ignored>,
    pub(super) reasons: Vec<String>,
    pub(super) never: Vec<String>,
    pub(super) missing: bool,
}

/// The change's approvals sorted into those that count and those ignored (with
/// why), each in the order given, with where each came from when they say.
struct Tally<'c> {
    counted: Vec<&'c str>,
    counted_source: Vec<Option<&'c str>>,
    ignored_for: Vec<(&'c str, IgnoreReason)>,
    ignored_source: Vec<Option<&'c str>>,
    /// Whether any approval says where it came from.
    sourced: bool,
}

impl Tally<'_> {
    /// Where the `k`th ignored approval came from.
    fn source_of(&self, k: usize) -> Option<String> {
        self.ignored_source
            .get(k)
            .copied()
            .flatten()
            .map(str::to_owned)
    }

    /// Every ignored approval.
    fn ignored(&self) -> Vec<Ignored> {
        self.ignored_for
            .iter()
            .enumerate()
            .map(|(k, &(by, why))| Ignored {
                by: by.to_owned(),
                why,
                source: self.source_of(k),
            })
            .collect()
    }

    /// The ignored approvals that concern group `g`: the author's, and those of its
    /// members ignored for a reason other than being unknown or not needed.
    fn ignored_in(&self, policy: &Policy, g: usize) -> Vec<Ignored> {
        self.ignored_for
            .iter()
            .enumerate()
            .filter(|(_, (who, why))| {
                *why == IgnoreReason::Author
                    || (!matches!(why, IgnoreReason::Unknown | IgnoreReason::NotNeeded)
                        && policy.member_of.get(*who).is_some_and(|gs| gs.contains(&g)))
            })
            .map(|(k, (who, why))| Ignored {
                by: (*who).to_owned(),
                why: *why,
                source: self.source_of(k),
            })
            .collect()
    }

    /// Where each of `by` (counted approvers) came from, when approvals say.
    fn sources(&self, by: &[String]) -> Vec<String> {
        if !self.sourced {
            return Vec::new();
        }
        by.iter()
            .map(|b| {
                self.counted
                    .iter()
                    .position(|c| c == b)
                    .and_then(|k| self.counted_source.get(k).copied().flatten())
                    .unwrap_or("change")
                    .to_owned()
            })
            .collect()
    }
}

impl<'a> Ctx<'a> {
    pub(super) fn seats(&self, required: &[(usize, u32)]) -> Seats {
        let policy = self.policy;
        let author = self.change.author.as_deref();
        let mut seats = Seats::default();
        if required.is_empty() {
            return seats;
        }
        let tally = self.tally(required);
        seats.ignored = tally.ignored();

        // Fill seats: each counted person at most one seat, in a group they belong to.
        let filled = fill(policy, required, &tally.counted);
        // Could the seats ever be filled? Every member but the author approving.
        let possible = fill(policy, required, &self.eligible(required));

        for (k, &(g, n)) in required.iter().enumerate() {
            let Some(group) = policy.groups.get(g) else {
                continue;
            };
            let by: Vec<String> = filled.get(k).cloned().unwrap_or_default();
            let have = u32::try_from(by.len()).unwrap_or(u32::MAX);
            let could = possible.get(k).map_or(0, Vec::len);
            let ignored = tally.ignored_in(policy, g);
            let sources = tally.sources(&by);
            if (could as u64) < u64::from(n) {
                seats.never.push(never_met(group, n, could, author));
            } else if have < n {
                seats.missing = true;
                seats.reasons.push(needs_more(group, n - have, &by));
            }
            seats.statuses.push(ApprovalStatus {
                group: group.name.clone(),
                required: n,
                have,
                approved_by: by,
                ignored,
                sources,
            });
        }
        seats
    }

    /// Which approvals count, in the order given.
    fn tally(&self, required: &[(usize, u32)]) -> Tally<'a> {
        let policy = self.policy;
        let change = self.change;
        let author = change.author.as_deref();
        // Names are canonical (`crate::people`): one spelling per person.
        let mut counted_set: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        let mut tally = Tally {
            counted: Vec::new(),
            counted_source: Vec::new(),
            ignored_for: Vec::new(),
            ignored_source: Vec::new(),
            sourced: change.approvals.iter().any(|a| a.source.is_some()),
        };
        for a in &change.approvals {
            let by = a.by.as_str();
            let groups = policy.member_of.get(by);
            let why = if Some(by) == author {
                Some(IgnoreReason::Author)
            } else if a.revision != change.revision {
                // For another revision, or a revision on one side only: either way
                // not an approval of what would deploy.
                Some(IgnoreReason::Stale)
            } else if counted_set.contains(by) {
                Some(IgnoreReason::Duplicate)
            } else if groups.is_none() {
                Some(IgnoreReason::Unknown)
            } else if !groups
                .is_some_and(|gs| gs.iter().any(|g| required.iter().any(|(rg, _)| rg == g)))
            {
                Some(IgnoreReason::NotNeeded)
            } else {
                None
            };
            let source = tally
                .sourced
                .then(|| a.source.as_deref().unwrap_or("change"));
            match why {
                Some(w) => {
                    tally.ignored_for.push((by, w));
                    tally.ignored_source.push(source);
                }
                None => {
                    counted_set.insert(by);
                    tally.counted.push(by);
                    tally.counted_source.push(source);
                }
            }
        }
        tally
    }

    /// Every member of the required groups but the author, each once, in the
    /// order of the groups and their members.
    fn eligible(&self, required: &[(usize, u32)]) -> Vec<&'a str> {
        let policy = self.policy;
        let author = self.change.author.as_deref();
        let mut everyone: Vec<&str> = Vec::new();
        let mut everyone_set: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for &(g, _) in required {
            if let Some(group) = policy.groups.get(g) {
                for m in &group.members {
                    if Some(m.as_str()) != author && everyone_set.insert(m.as_str()) {
                        everyone.push(m);
                    }
                }
            }
        }
        everyone
    }
}

/// Why `n` approvals from `group` can never be met, when at most `could` people
/// are left for it.
fn never_met(group: &GroupDef, n: u32, could: usize, author: Option<&str>) -> String {
    let author_note = match author {
        Some(a) if group.members.iter().any(|m| m == a) => {
            format!(" (the author `{a}` cannot approve their own change)")
        }
        _ => String::new(),
    };
    format!(
        "approval from {} can never be met: {n} needed, but at most {could} eligible {} left for it{author_note}",
        group.name,
        if could == 1 { "person is" } else { "people are" },
    )
}

/// That `missing` more approvals from `group` are needed, besides those of `by`.
fn needs_more(group: &GroupDef, missing: u32, by: &[String]) -> String {
    let mut reason = format!(
        "needs {missing} more approval{} from {}",
        if missing == 1 { "" } else { "s" },
        group.name
    );
    if !by.is_empty() {
        reason.push_str(&format!(" (have: {})", by.join(", ")));
    }
    reason
}

/// Fills `required` seats from `people` by maximum bipartite matching; returns,
/// per required group, who fills its seats (in the order of `people`).
fn fill(policy: &Policy, required: &[(usize, u32)], people: &[&str]) -> Vec<Vec<String>> {
    if policy.disjoint {
        return fill_disjoint(policy, required, people);
    }
    let mut out: Vec<Vec<String>> = vec![Vec::new(); required.len()];
    let assigned = Matching::new(policy, required, people).run();
    for (k, mut seats) in assigned.into_iter().enumerate() {
        seats.sort_unstable();
        if let Some(slot) = out.get_mut(k) {
            slot.extend(
                seats
                    .iter()
                    .filter_map(|&i| people.get(i))
                    .map(|p| (*p).to_owned()),
            );
        }
    }
    out
}

/// [`fill`] when no one is in two groups: each group fills its seats on its own.
fn fill_disjoint(policy: &Policy, required: &[(usize, u32)], people: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new(); required.len()];
    for (k, &(g, n)) in required.iter().enumerate() {
        for p in people {
            let member = policy.member_of.get(*p).is_some_and(|gs| gs.contains(&g));
            if let Some(slot) = out.get_mut(k) {
                if member && slot.len() < n as usize {
                    slot.push((*p).to_owned());
                }
            }
        }
    }
    out
}

/// [`fill`] when groups overlap: a bipartite matching of people to groups with
/// capacities, by augmenting paths, one person at a time in the order given. An
/// augmenting path only moves people between groups, never drops one, so earlier
/// approvals are always kept; the search stops once every seat is filled. Each
/// attempt is a breadth-first search over the required groups: O(seats x groups
/// per person), so the whole is O(people x seats x groups per person), with no
/// cubic step.
struct Matching {
    capacity: Vec<usize>,
    /// For each person, the required groups (by position in `required`) they are in.
    groups_of: Vec<Vec<usize>>,
    /// For each required group, the people (by position) in its seats.
    assigned: Vec<Vec<usize>>,
    /// `via[k]`: the person who would take a seat in group `k`, and the group they
    /// would leave for it (`None` for the person being placed).
    via: Vec<Option<(usize, Option<usize>)>>,
    queue: Vec<usize>,
}

impl Matching {
    fn new(policy: &Policy, required: &[(usize, u32)], people: &[&str]) -> Matching {
        let groups_of: Vec<Vec<usize>> = people
            .iter()
            .map(|p| {
                policy.member_of.get(*p).map_or_else(Vec::new, |gs| {
                    gs.iter()
                        .filter_map(|g| required.binary_search_by_key(g, |&(rg, _)| rg).ok())
                        .collect()
                })
            })
            .collect();
        Matching {
            capacity: required.iter().map(|&(_, n)| n as usize).collect(),
            groups_of,
            assigned: vec![Vec::new(); required.len()],
            via: vec![None; required.len()],
            queue: Vec::with_capacity(required.len()),
        }
    }

    /// Places each person in turn until every seat is filled; returns who is in
    /// each group's seats.
    fn run(mut self) -> Vec<Vec<usize>> {
        let total: usize = self.capacity.iter().sum();
        let mut filled = 0usize;
        for pi in 0..self.groups_of.len() {
            if filled >= total {
                break;
            }
            if self.place(pi) {
                filled += 1;
            }
        }
        self.assigned
    }

    /// Finds a free seat for person `pi`, moving others along an augmenting path;
    /// whether one was found.
    fn place(&mut self, pi: usize) -> bool {
        self.via.iter_mut().for_each(|v| *v = None);
        self.queue.clear();
        for &k in self.groups_of.get(pi).map_or(&[][..], Vec::as_slice) {
            if let Some(slot @ None) = self.via.get_mut(k) {
                *slot = Some((pi, None));
                self.queue.push(k);
            }
        }
        let free = self.search();
        self.augment(free);
        free.is_some()
    }

    /// Breadth first from the queued groups: the first group with a free seat.
    fn search(&mut self) -> Option<usize> {
        let mut head = 0;
        while let Some(&k) = self.queue.get(head) {
            head += 1;
            let (Some(seats), Some(&cap)) = (self.assigned.get(k), self.capacity.get(k)) else {
                continue;
            };
            if seats.len() < cap {
                return Some(k);
            }
            for &q in seats {
                for &k2 in self.groups_of.get(q).map_or(&[][..], Vec::as_slice) {
                    if let Some(slot @ None) = self.via.get_mut(k2) {
                        *slot = Some((q, Some(k)));
                        self.queue.push(k2);
                    }
                }
            }
        }
        None
    }

    /// Augment: each person on the path moves into the group that reached them.
    fn augment(&mut self, free: Option<usize>) {
        let mut at = free;
        while let Some(k) = at {
            let Some(Some((x, from))) = self.via.get(k).copied() else {
                break;
            };
            if let Some(seats) = self.assigned.get_mut(k) {
                seats.push(x);
            }
            if let Some(kf) = from {
                if let Some(seats) = self.assigned.get_mut(kf) {
                    seats.retain(|&y| y != x);
                }
            }
            at = from;
        }
    }
}
