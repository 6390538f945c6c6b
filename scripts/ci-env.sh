# Sourced (not run) by the test and check scripts: the one definition of "this is CI", where no
# suite or check may be skipped. CI services set CI=true, others CI=1 or CI=yes; any value except
# empty, 0, false, no and off (any case) counts, so an unusual spelling fails closed (nothing
# skipped) instead of silently skipping. crates/store/src/testing.rs (`in_ci`) has the same rule.
is_ci() {
  case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    "" | 0 | false | no | off) return 1 ;;
    *) return 0 ;;
  esac
}
