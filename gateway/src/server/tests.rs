use super::*;

fn cache(max_entries: usize) -> ResultCache {
    ResultCache::new(&CacheConfig {
        ttl: Duration::from_secs(300),
        identity_sources: Vec::new(),
        max_entries,
    })
}

#[test]
fn authorizer_cache_holds_at_most_max_entries_and_drops_the_least_recently_used() {
    let c = cache(2);
    let t = Instant::now();
    c.put("a", json!("A"), t);
    c.put("b", json!("B"), t);
    assert_eq!(c.get("a", t), Some(json!("A")), "a is now the most recent");
    c.put("c", json!("C"), t);
    assert_eq!(c.len(), 2);
    assert_eq!(c.get("b", t), None, "b was the least recently used");
    assert_eq!(c.get("a", t), Some(json!("A")));
    assert_eq!(c.get("c", t), Some(json!("C")));
    for i in 0..10_000 {
        c.put(&format!("spray-{i}"), json!(i), t);
    }
    assert_eq!(c.len(), 2, "a client spraying identities cannot grow it");
}

#[test]
fn authorizer_cache_entries_expire_after_the_ttl() {
    let c = cache(10);
    let t = Instant::now();
    c.put("a", json!("A"), t);
    assert_eq!(c.get("a", t + Duration::from_secs(299)), Some(json!("A")));
    assert_eq!(c.get("a", t + Duration::from_secs(300)), None);
    assert_eq!(c.len(), 0, "an expired entry is removed when found");
}
