use super::*;

#[test]
fn lambda_log_levels_map_to_tracing_levels_and_garbage_means_info() {
    assert_eq!(parse_level(None), LevelFilter::INFO);
    assert_eq!(parse_level(Some("DEBUG")), LevelFilter::DEBUG);
    assert_eq!(parse_level(Some(" warn ")), LevelFilter::WARN);
    assert_eq!(parse_level(Some("FATAL")), LevelFilter::ERROR);
    assert_eq!(parse_level(Some("verbose please")), LevelFilter::INFO);
}
