//! Building a rule set logs, at info, the path each rule takes: compiled, or
//! interpreted by CEL and why. Alone in its test binary: tracing caches per call
//! site whether anyone listens, and tests building rules on other threads without
//! a subscriber would race with this one.

use monitor::RuleSet;

/// What a tracing subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn building_a_rule_set_logs_the_path_of_each_rule() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
    let rules = tracing::subscriber::with_default(subscriber, || {
        RuleSet::from_region_toml(
            "[[rule]]\nname = \"catastrophic_10\"\ncondition = \"(oop*10000) > (budget*factor)\"\n\
             [[rule]]\nname = \"long_diagnosis\"\nwho = \"all\"\ncondition = \"size(serious_diagnosis) > 3\"\n\
             value = \"serious_diagnosis\"\n",
        )
        .unwrap()
    });
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    for r in &rules.rules {
        assert_eq!(text.matches(&format!("rule {}: ", r.name)).count(), 1, "{}:\n{text}", r.name);
    }
    assert!(text.contains("INFO"), "{text}");
    assert!(text.contains("rule catastrophic_10: compiled"), "{text}");
    assert!(
        text.contains("rule long_diagnosis: interpreted by CEL (condition: the function `size` with 1 arguments is outside the compiled subset)"),
        "{text}"
    );
}
