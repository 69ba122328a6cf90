use super::super::test_util::*;
