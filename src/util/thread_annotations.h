// Clang's thread-safety annotations (-Wthread-safety), as LevelDB and Abseil
// spell them. Other compilers see nothing. The CI's clang build checks them.
#pragma once

#if defined(__clang__)
#define REFGATE_TSA(x) __attribute__((x))
#else
#define REFGATE_TSA(x)
#endif

#define CAPABILITY(x) REFGATE_TSA(capability(x))
#define SCOPED_CAPABILITY REFGATE_TSA(scoped_lockable)
#define GUARDED_BY(x) REFGATE_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) REFGATE_TSA(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) REFGATE_TSA(acquired_before(__VA_ARGS__))
#define REQUIRES(...) REFGATE_TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) REFGATE_TSA(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) REFGATE_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) REFGATE_TSA(release_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) REFGATE_TSA(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS REFGATE_TSA(no_thread_safety_analysis)
