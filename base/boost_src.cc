// The one translation unit that compiles the non-template parts of Asio, Asio's SSL support and
// Beast. Every other TU is built with BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION (cmake/BoostSeparateCompilation.cmake), so it only declares
// these functions instead of compiling them again: this is how Asio and Beast document building
// themselves once per program instead of once per TU.

#if !defined(BOOST_ASIO_SEPARATE_COMPILATION) || !defined(BOOST_BEAST_SEPARATE_COMPILATION)
#error \
    "boost_src.cc must be built with BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION"
#endif

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
