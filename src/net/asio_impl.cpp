// Compiles Boost.Asio (and its SSL part) once for the whole program; every other translation unit
// sees BOOST_ASIO_SEPARATE_COMPILATION and only declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
