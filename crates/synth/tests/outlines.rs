//! Generated villages lie inside the real outline drawn for them (issue 17): the
//! finest held, their city's (county lines are not shipped), and the same seed
//! places them the same.

use domain::outlines::outlines;
use domain::RegionLevel;
use synth::{Collect, Config, Scale};

fn network(config: &Config) -> Collect {
    let mut c = Collect::default();
    synth::generate_network(config, &mut c).unwrap();
    c
}

#[test]
fn villages_fall_inside_their_citys_outline() {
    for config in [Config::default(), Config { scale: Scale::County, ..Config::default() }] {
        let c = network(&config);
        let villages: Vec<_> = c.regions.iter().filter(|r| r.level == RegionLevel::Village).collect();
        assert!(!villages.is_empty());
        for v in &villages {
            let o = outlines().finest(v.code).unwrap_or_else(|| panic!("an outline for {}", v.code));
            assert_eq!(o.level(), RegionLevel::City, "{}", v.code);
            let (lon, lat) = (v.lon.unwrap(), v.lat.unwrap());
            assert!(o.contains(lon, lat), "{} {} at {lon},{lat} outside {}", v.code, v.name, o.name);
        }
        let again = network(&config);
        assert_eq!(c.regions, again.regions);
    }
}
