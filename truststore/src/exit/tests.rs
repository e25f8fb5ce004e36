use super::*;

#[test]
fn errors_win_over_warnings_and_codes_are_the_documented_ones() {
    assert_eq!(Exit::of_counts(1, 5), Exit::Error);
    assert_eq!(Exit::of_counts(0, 5), Exit::Warnings);
    assert_eq!(Exit::of_counts(0, 0), Exit::Ok);
    assert_eq!(
        [Exit::Ok, Exit::Error, Exit::Warnings, Exit::NothingMatched].map(Exit::code),
        [0, 1, 3, 4]
    );
    assert!(Exit::Error > Exit::Warnings && Exit::Warnings > Exit::Ok);
}
