//! What clients sent: lets a test assert exactly which requests reached "DingTalk".

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::faults::Endpoint;

/// One request as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// Increases by one per request since start (survives clearing the log).
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// The raw query string, still URL-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Lower-cased header names; `host` is left out.
    pub headers: BTreeMap<String, String>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The `requestid` the fake answered with.
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
}

impl RecordedRequest {
    /// Decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }

    /// The first decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// A bounded log: the oldest entries go first.
pub(crate) struct RequestLog {
    inner: Mutex<LogInner>,
    capacity: usize,
}

struct LogInner {
    next_seq: u64,
    entries: VecDeque<RecordedRequest>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(LogInner {
                next_seq: 1,
                entries: VecDeque::new(),
            }),
            capacity,
        }
    }

    pub(crate) fn record(&self, mut request: RecordedRequest) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        request.seq = inner.next_seq;
        inner.next_seq += 1;
        if self.capacity == 0 {
            return;
        }
        while inner.entries.len() >= self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(request);
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.clear();
    }
}
