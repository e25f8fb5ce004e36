use super::running_port;

#[test]
fn running_line_gives_the_bound_port() {
    assert_eq!(
        running_port(" * Running on http://127.0.0.1:37233"),
        Some(37233)
    );
    assert_eq!(running_port("Press CTRL+C to quit"), None);
    assert_eq!(running_port(" * Running on http://127.0.0.1:0"), None);
}
