//! Time stamps as people read them.

/// `hh:mm:ss` (hours never wrap; negative input clamps to zero).
pub fn hms(seconds: f64) -> String {
    let total = seconds.max(0.0).floor() as u64;
    format!(
        "{:02}:{:02}:{:02}",
        total / 3600,
        (total / 60) % 60,
        total % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_hours_minutes_seconds() {
        assert_eq!(hms(0.0), "00:00:00");
        assert_eq!(hms(59.99), "00:00:59");
        assert_eq!(hms(3725.2), "01:02:05");
        assert_eq!(hms(-3.0), "00:00:00");
        assert_eq!(hms(36000.0 * 3.0), "30:00:00");
    }
}
