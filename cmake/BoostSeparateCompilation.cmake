# Asio and Beast are header-only by default: then every TU that includes them compiles their
# non-template code (scheduler, reactor, socket ops, SSL context/engine, HTTP parser, WebSocket
# hashing, zlib) again, about 4 s of the ~10 s an Asio TU spends on headers at -O2. With
# BOOST_ASIO_SEPARATE_COMPILATION + BOOST_BEAST_SEPARATE_COMPILATION those are only declared, and
# base/boost_src.cc compiles them once (the documented way: <boost/asio/impl/src.hpp>,
# <boost/asio/ssl/impl/src.hpp>, <boost/beast/src.hpp> in one TU).
#
# The macros are set for every TU of the project (mixing the two modes would break the ODR), and
# relaytap_boost_src is attached to Boost::headers, so every target that uses Boost links it
# without its CMakeLists having to know.

add_compile_definitions(BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION)

add_library(relaytap_boost_src STATIC ${PROJECT_SOURCE_DIR}/base/boost_src.cc)
# Not via Boost::headers (that would make a link cycle): only its include directories.
target_include_directories(relaytap_boost_src SYSTEM PRIVATE
  $<TARGET_PROPERTY:Boost::headers,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(relaytap_boost_src PUBLIC OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
# No PCH for it: it includes the implementation files, which a PCH of the headers would not
# contain anyway.
set_target_properties(relaytap_boost_src PROPERTIES RELAYTAP_NO_PCH ON)

set_property(TARGET Boost::headers APPEND PROPERTY INTERFACE_LINK_LIBRARIES relaytap_boost_src)
