//! Paging by key, not by offset (SPEC §11). An API lists records changed since a bound,
//! oldest change first; a record that changes while the list is read moves to its end. Paged
//! by offset, that move shifts another record back across a page boundary, out of sight. Paged
//! by key, each next page asks for records changed at or after the last change seen, so a
//! record that moves is read again later, and none is skipped. Ids already read at the new
//! bound's instant are left out of what is kept; a page all inside one instant continues by
//! page number under the same bound.

use std::collections::HashSet;

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};

/// How a provider's bound works.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The bound is sent to the second (Xero's `If-Modified-Since`); else to the millisecond.
    pub whole_seconds: bool,
    /// How far before the last change seen the next bound is put (Xero: a second, whatever its
    /// comparison).
    pub step_back: TimeDelta,
}

/// What to ask for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Records changed at or after this.
    pub since: DateTime<Utc>,
    /// From 1, within `since`.
    pub page: u32,
}

/// Reads pages until one comes back short.
#[derive(Debug)]
pub struct Pager {
    bounds: Bounds,
    page_size: usize,
    request: PageRequest,
    /// Ids read at or after the current bound: read again, they are not kept twice.
    read_since_bound: HashSet<String>,
    done: bool,
}

impl Pager {
    /// From `since` (the watermark less lookback, or the epoch for a full read).
    pub fn new(since: DateTime<Utc>, page_size: usize, bounds: Bounds) -> Self {
        Self {
            request: PageRequest {
                since: bounds.round(since),
                page: 1,
            },
            bounds,
            page_size: page_size.max(1),
            read_since_bound: HashSet::new(),
            done: false,
        }
    }

    /// The next page to ask for; `None` once a page came back short.
    pub fn next_request(&self) -> Option<PageRequest> {
        (!self.done).then_some(self.request)
    }

    /// Takes a page's records (id and change time, in the order the API gave them): which to
    /// keep (indexes into `page`: those not already read at or after the bound).
    pub fn take(&mut self, page: &[(String, DateTime<Utc>)]) -> Vec<usize> {
        let keep: Vec<usize> = (0..page.len())
            .filter(|i| !self.read_since_bound.contains(&page[*i].0))
            .collect();
        // A short page (every record it returned counts, re-read ones too) ends the read.
        if page.len() < self.page_size {
            self.done = true;
            return keep;
        }
        let newest = page.iter().map(|(_, at)| *at).max();
        let next = newest.map(|at| self.bounds.round(at - self.bounds.step_back));
        match next {
            Some(bound) if bound > self.request.since => {
                self.request = PageRequest {
                    since: bound,
                    page: 1,
                };
                self.read_since_bound = (page.iter())
                    .filter(|(_, at)| *at >= bound)
                    .map(|(id, _)| id.clone())
                    .collect();
            }
            // The whole page is inside the bound's instant: the next page under it.
            _ => {
                self.request.page += 1;
                self.read_since_bound
                    .extend(page.iter().map(|(id, _)| id.clone()));
            }
        }
        keep
    }
}

impl Bounds {
    fn round(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let unit = if self.whole_seconds {
            TimeDelta::seconds(1)
        } else {
            TimeDelta::milliseconds(1)
        };
        at.duration_trunc(unit).unwrap_or(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("time")
    }

    /// A list changed since `since`, oldest change first, as an API answers it.
    fn list(
        records: &[(String, DateTime<Utc>)],
        since: DateTime<Utc>,
    ) -> Vec<(String, DateTime<Utc>)> {
        let mut listed: Vec<_> = records
            .iter()
            .filter(|(_, t)| *t >= since)
            .cloned()
            .collect();
        listed.sort_by_key(|(id, t)| (*t, id.clone()));
        listed
    }

    /// Reads `records` through a pager of `size`, letting `change` move records after each
    /// page: the ids kept, in order.
    fn read(
        records: &mut Vec<(String, DateTime<Utc>)>,
        size: usize,
        bounds: Bounds,
        mut change: impl FnMut(usize, &mut Vec<(String, DateTime<Utc>)>),
    ) -> Vec<String> {
        let mut pager = Pager::new(at(0), size, bounds);
        let mut kept = Vec::new();
        let mut pages = 0;
        while let Some(request) = pager.next_request() {
            let listed = list(records, request.since);
            let start = (request.page as usize - 1) * size;
            let page: Vec<_> = listed.iter().skip(start).take(size).cloned().collect();
            for i in pager.take(&page) {
                kept.push(page[i].0.clone());
            }
            pages += 1;
            assert!(pages < 1000, "the read never ends");
            change(pages, records);
        }
        kept
    }

    const MS: Bounds = Bounds {
        whole_seconds: false,
        step_back: TimeDelta::zero(),
    };
    const XERO: Bounds = Bounds {
        whole_seconds: true,
        step_back: TimeDelta::seconds(1),
    };

    #[test]
    fn a_record_that_changes_during_the_read_is_read_and_none_is_skipped() {
        for bounds in [MS, XERO] {
            let mut records: Vec<_> = (0..25).map(|i| (format!("C{i:02}"), at(i * 10))).collect();
            // After the first page, C02 (already read) changes: by offset, C10 would slip back
            // across the boundary and never be read.
            let kept = read(&mut records, 10, bounds, |page, records| {
                if page == 1 {
                    records[2].1 = at(1000);
                }
            });
            let unique: HashSet<&String> = kept.iter().collect();
            assert_eq!(unique.len(), 25, "{kept:?}");
            assert_eq!(
                kept.last().map(String::as_str),
                Some("C02"),
                "its later version last"
            );
        }
    }

    #[test]
    fn a_page_all_inside_one_instant_goes_on_by_page_number() {
        for bounds in [MS, XERO] {
            // 35 records changed in the same second, then 5 later.
            let mut records: Vec<_> = (0..35).map(|i| (format!("S{i:02}"), at(5))).collect();
            records.extend((0..5).map(|i| (format!("L{i}"), at(60 + i))));
            let kept = read(&mut records, 10, bounds, |_, _| {});
            assert_eq!(kept.len(), 40, "{kept:?}");
            let unique: HashSet<&String> = kept.iter().collect();
            assert_eq!(unique.len(), 40);
        }
    }

    #[test]
    fn a_short_page_ends_the_read_and_an_empty_list_is_one_request() {
        let mut records = Vec::new();
        let mut requests = 0;
        let kept = read(&mut records, 10, MS, |_, _| requests += 1);
        assert!(kept.is_empty());
        assert_eq!(requests, 1);
    }
}
