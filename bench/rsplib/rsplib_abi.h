/*
 * The few RSPLIB 3.4.4 internals the harness needs, declared here because
 * Debian's librsplib-dev ships only the public API (/usr/include/rserpool/),
 * not the message or handlespace headers, and no source package.
 *
 * Written for this project from reading RSPLIB's published sources:
 * https://github.com/dreibh/rsplib, tag rsplib-3.4.4
 * (commit 29a8a57834c36a6fcd99320c856d6b7a3ba8f0b2). Each declaration names
 * the header of that commit it mirrors. Names here are ours; only the memory
 * layout (field order and types, x86-64/LP64 Linux, GCC defaults) and the
 * function signatures must match. The layouts hold for the
 * "SimpleRedBlackTree" build of the handlespace templates, the one whose
 * functions librsphsmgt.so exports (suffix _SimpleRedBlackTree).
 *
 * Nothing here is trusted blindly: harness.c checks every layout at run time
 * (canary bytes after each structure it allocates, fields read back after
 * RSPLIB initialised them, malloc_usable_size() of the messages RSPLIB
 * allocates) and stops with "ABI check failed" when one does not hold.
 */
#ifndef RSPLIB_ABI_H
#define RSPLIB_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/sctp.h> /* sctp_assoc_t (libsctp-dev), as src/ext_socket.h includes it */
#include <sys/socket.h>

/* src/tdtypes.h: in C, RSPLIB's bool is an unsigned char. */
typedef unsigned char rsp_bool;

/* src/poolhandlespacemanagement-basics.h: RegistrarIdentifierType, PoolElementIdentifierType. */
typedef uint32_t rsp_registrar_id;
typedef uint32_t rsp_element_id;

/* src/poolhandlespacechecksum.h: HandlespaceChecksumType, HandlespaceChecksumAccumulatorType. */
typedef uint16_t rsp_checksum;
typedef uint32_t rsp_checksum_sum;

/* src/rserpoolmessage.h: MAX_MAX_HANDLE_RESOLUTION_ITEMS, PPID_ASAP, PPID_ENRP. */
#define RSP_MAX_RESOLUTION_ITEMS 128
#define RSP_PPID_ASAP 11
#define RSP_PPID_ENRP 12
/* src/rserpoolmessage.h: AHT_ASAP_MODIFIER, EHT_ENRP_MODIFIER (added to the wire type). */
#define RSP_ASAP_TYPE_BASE 0xaa00
#define RSP_ENRP_TYPE_BASE 0xee00
/* src/rserpoolmessage.h: EHT_HANDLE_TABLE_RESPONSE. */
#define RSP_ENRP_HANDLE_TABLE_RESPONSE (RSP_ENRP_TYPE_BASE | 0x03)

/* src/poolhandle.h: struct PoolHandle (MAX_POOLHANDLESIZE = 32). */
#define RSP_MAX_POOL_HANDLE 32
struct rsp_pool_handle {
  size_t size;
  unsigned char bytes[RSP_MAX_POOL_HANDLE];
};

/* src/poolpolicysettings.h: struct PoolPolicySettings. */
struct rsp_policy_settings {
  unsigned int type;
  unsigned int weight;
  unsigned int load;
  unsigned int load_degradation;
  unsigned int load_dpf;
  unsigned int weight_dpf;
  unsigned int distance;
};

/* src/sockaddrunion.h: union sockaddr_union (without HAVE_TEST). */
union rsp_address {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
};

/* src/transportaddressblock.h: struct TransportAddressBlock, TABF_CONTROLCHANNEL. */
struct rsp_transport {
  struct rsp_transport* next;
  int protocol;
  uint16_t port;
  uint16_t flags;
  size_t addresses;
  union rsp_address address[];
};
#define RSP_TRANSPORT_SIZE(n) (sizeof(struct rsp_transport) + (n) * sizeof(union rsp_address))

/* src/redblacktree.h without USE_LEAFLINKED: struct SimpleRedBlackTreeNode, SimpleRedBlackTree. */
struct rsp_tree_node {
  struct rsp_tree_node* parent;
  struct rsp_tree_node* left;
  struct rsp_tree_node* right;
  int color; /* enum RedBlackTreeNodeColorType */
  unsigned long long value;
  unsigned long long value_sum;
};
struct rsp_tree {
  struct rsp_tree_node null_node;
  size_t elements;
  void* print_function;
  void* comparison_function;
};

/* src/poolhandlespacenode-template.h: struct PoolHandlespaceNode_SimpleRedBlackTree. */
struct rsp_handlespace_node {
  struct rsp_tree pools;
  struct rsp_tree element_timers;
  struct rsp_tree element_connections;
  struct rsp_tree element_ownership;
  rsp_checksum_sum handlespace_checksum;
  rsp_checksum_sum ownership_checksum;
  rsp_registrar_id home_registrar;
  size_t pool_elements;
  size_t owned_pool_elements;
  void* notification_user_data;
  void* notification;
};

/* src/poolhandlespacemanagement-template.h: struct PoolHandlespaceManagement_SimpleRedBlackTree. */
struct rsp_handlespace {
  struct rsp_handlespace_node handlespace;
  void* new_pool_node;
  void* new_pool_element_node;
  void* pool_user_data_disposer;
  void* pool_element_user_data_disposer;
  void* disposer_user_data;
  void* update_notification;
  void* notification_user_data;
};

/* src/peerlistnode-template.h: struct PeerListNode_SimpleRedBlackTree. */
struct rsp_peer {
  struct rsp_tree_node index_node;
  struct rsp_tree_node timer_node;
  void* owner_peer_list;
  rsp_registrar_id identifier;
  unsigned int flags;
  unsigned long long last_update;
  unsigned int timer_code;
  unsigned long long timer_time_stamp;
  rsp_checksum_sum ownership_checksum;
  unsigned int status;
  rsp_registrar_id takeover_registrar;
  void* takeover_process;
  struct rsp_transport* address_block;
  void* user_data; /* the creator keeps its HandleTableExtract here */
};

/* src/rserpoolmessage.h: struct RSerPoolMessage. Opaque pointers are void*. */
struct rsp_message {
  unsigned int type;
  uint16_t error;
  uint8_t flags;
  uint16_t action;
  union rsp_address* address_array;
  size_t addresses;

  uint16_t operation_error_code;
  char* operation_error_data;
  size_t operation_error_length;

  char* offending_tlv;
  size_t offending_tlv_length;

  char* error_cause_tlv;
  size_t error_cause_tlv_length;
  rsp_bool error_cause_tlv_auto_delete;

  char* buffer;
  rsp_bool buffer_auto_delete;
  size_t buffer_size;
  size_t original_buffer_size;
  size_t position;

  rsp_element_id identifier;
  rsp_checksum checksum;
  struct rsp_policy_settings policy;
  struct rsp_pool_handle handle;

  rsp_registrar_id registrar_identifier;
  rsp_registrar_id sender_id;
  rsp_registrar_id receiver_id;

  void* pool_element;
  rsp_bool pool_element_auto_delete;

  void* cookie;
  rsp_bool cookie_auto_delete;
  size_t cookie_size;

  struct rsp_transport* transport_list;
  rsp_bool transport_list_auto_delete;

  void* pool_elements[RSP_MAX_RESOLUTION_ITEMS];
  size_t pool_elements_count;
  rsp_bool pool_elements_auto_delete;

  struct rsp_peer* peer_list_node;
  rsp_bool peer_list_node_auto_delete;
  void* peer_list;
  rsp_bool peer_list_auto_delete;

  struct rsp_handlespace* handlespace;
  rsp_bool handlespace_auto_delete;
  size_t max_elements_per_ht_request;

  void* extract_continuation;

  sctp_assoc_t assoc_id;
  uint32_t ppid;
  union rsp_address source_address;
};

/* src/rspregistrar.h: REGISTRAR_DEFAULT_MAX_ELEMENTS_PER_HANDLE_TABLE_REQUEST. */
#define RSP_REGISTRAR_MAX_ELEMENTS_PER_HT_REQUEST 128

/* ---- librspmessaging.so ------------------------------------------------ */

/* src/rserpoolmessageparser.h */
unsigned int rserpoolPacket2Message(char* packet, const union rsp_address* source,
                                    const sctp_assoc_t assoc, const uint32_t ppid,
                                    const size_t packet_size, const size_t min_buffer_size,
                                    struct rsp_message** message);
/* src/rserpoolmessagecreator.h */
size_t rserpoolMessage2Packet(struct rsp_message* message);
/* src/rserpoolmessage.h */
void rserpoolMessageDelete(struct rsp_message* message);

/* ---- librsphsmgt.so ---------------------------------------------------- */

/* src/poolhandle.h */
void poolHandleNew(struct rsp_pool_handle* handle, const unsigned char* bytes, const size_t size);
/* src/poolpolicysettings.h */
void poolPolicySettingsNew(struct rsp_policy_settings* settings);
/* src/transportaddressblock.h */
void transportAddressBlockNew(struct rsp_transport* transport, const int protocol,
                              const uint16_t port, const uint16_t flags,
                              const union rsp_address* addresses, const size_t count,
                              const size_t max_count);
void transportAddressBlockDelete(struct rsp_transport* transport);

/* src/peerlistnode-template.h */
void peerListNodeNew_SimpleRedBlackTree(struct rsp_peer* peer, const rsp_registrar_id identifier,
                                        const unsigned int flags, struct rsp_transport* addresses);
void peerListNodeDelete_SimpleRedBlackTree(struct rsp_peer* peer);

/* src/poolhandlespacemanagement-template.h; disposers are unused (NULL). */
void poolHandlespaceManagementNew_SimpleRedBlackTree(struct rsp_handlespace* handlespace,
                                                     const rsp_registrar_id home_registrar,
                                                     void* pool_user_data_disposer,
                                                     void* pool_element_user_data_disposer,
                                                     void* disposer_user_data);
void poolHandlespaceManagementDelete_SimpleRedBlackTree(struct rsp_handlespace* handlespace);
rsp_checksum poolHandlespaceManagementGetHandlespaceChecksum_SimpleRedBlackTree(
  const struct rsp_handlespace* handlespace);
size_t poolHandlespaceManagementGetPools_SimpleRedBlackTree(
  const struct rsp_handlespace* handlespace);
size_t poolHandlespaceManagementGetPoolElements_SimpleRedBlackTree(
  const struct rsp_handlespace* handlespace);
unsigned int poolHandlespaceManagementRegisterPoolElement_SimpleRedBlackTree(
  struct rsp_handlespace* handlespace, const struct rsp_pool_handle* pool_handle,
  const rsp_registrar_id home_registrar, const rsp_element_id identifier,
  const unsigned int registration_life, const struct rsp_policy_settings* policy,
  const struct rsp_transport* user_transport, const struct rsp_transport* registrator_transport,
  const int connection_socket, const sctp_assoc_t connection_assoc,
  const unsigned long long now, void** element_node);
unsigned int poolHandlespaceManagementDeregisterPoolElement_SimpleRedBlackTree(
  struct rsp_handlespace* handlespace, const struct rsp_pool_handle* pool_handle,
  const rsp_element_id identifier);
unsigned int poolHandlespaceManagementHandleResolution_SimpleRedBlackTree(
  struct rsp_handlespace* handlespace, const struct rsp_pool_handle* pool_handle,
  void** element_nodes, size_t* count, const size_t max_items, const size_t max_increment);
void poolHandlespaceManagementRestartPoolElementExpiryTimer_SimpleRedBlackTree(
  struct rsp_handlespace* handlespace, void* element_node, const unsigned long long timeout);

/* ---- libtdloglevel.so --------------------------------------------------- */

/* src/loglevel.h: RSPLIB logs through a FILE* that stays NULL until beginLogging() makes it
 * stderr; an error message of the library before that would crash. */
rsp_bool initLogging(const char* parameter);
void beginLogging(void);
void finishLogging(void);

#endif
