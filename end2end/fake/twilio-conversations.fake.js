// A stand-in for Twilio's Conversations SDK in browser tests (the only fake: Twilio's
// servers cannot be reached here). Its classes are shaped like the SDK's own type
// definitions (@twilio/conversations 3.0.1, builds/lib.d.ts): Client, User, Conversation,
// Participant, Message and Paginator, with the methods and events chatpass uses.
//
// It records every call (window.__fakeTwilio.calls, and each client's own `calls`) and
// lets a test play Twilio's part:
//   const t = window.__fakeTwilio;
//   t.clients.at(-1).emit('tokenAboutToExpire');          // any client event
//   t.seed('general', { participants: ['bo@x'], messages: 500, friendlyName: 'General' });
//   t.receive('general', 'bo@x', 'hi');                   // a message from someone else
//   t.addUser('bo@x', 'Bo');                               // a user's friendly name
//   t.startTyping('general', 'bo@x'); t.stopTyping('general', 'bo@x');
//   t.leave('general', 'bo@x');                            // participantLeft
//   t.failNext('updateFriendlyName', new Error('nope'));   // the next such call rejects
//   t.holdPages(); ...; t.releasePages();                  // getMessages/prevPage wait
(function () {
  'use strict';
  const state = (window.__fakeTwilio = {
    clients: [],
    conversations: {},
    users: {},
    calls: [],
    identity: null,
    failures: {},
    held: null,
  });

  function identityOf(token) {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      Array.from(atob(payload), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
    );
    return JSON.parse(json).grants.identity;
  }

  /** Records a call; rejects with the failure a test queued for this method, if any. */
  function record(method, args) {
    state.calls.push({ method, args });
    const queue = state.failures[method];
    if (queue && queue.length) {
      const error = queue.shift();
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  /** Waits while a test holds pages (to let messages arrive meanwhile). */
  function pageGate() {
    return state.held ? state.held.promise : Promise.resolve();
  }

  class Emitter {
    constructor() {
      this.handlers = {};
    }
    on(event, handler) {
      (this.handlers[event] ||= []).push(handler);
      return this;
    }
    addListener(event, handler) {
      return this.on(event, handler);
    }
    removeAllListeners() {
      this.handlers = {};
      return this;
    }
    emit(event, payload) {
      for (const handler of this.handlers[event] || []) handler(payload);
    }
  }

  let sidCounter = 0;
  const sid = (prefix) => prefix + String(++sidCounter).padStart(32, '0');

  class User extends Emitter {
    constructor(identity, friendlyName) {
      super();
      this.sid = sid('US');
      this.identity = identity;
      this.friendlyName = friendlyName ?? null;
      this.isOnline = null;
    }
    async updateFriendlyName(friendlyName) {
      await record('updateFriendlyName', [friendlyName]);
      this.friendlyName = friendlyName;
      this.emit('updated', { user: this, updateReasons: ['friendlyName'] });
      for (const client of state.clients) client.emit('userUpdated', { user: this, updateReasons: ['friendlyName'] });
      return this;
    }
  }

  function userOf(identity) {
    return (state.users[identity] ||= new User(identity, null));
  }

  class Participant extends Emitter {
    constructor(identity, conversation) {
      super();
      this.sid = sid('MB');
      this.identity = identity;
      this.conversation = conversation;
      this.lastReadMessageIndex = null;
      this.dateCreated = new Date();
    }
    async getUser() {
      return userOf(this.identity);
    }
  }

  class Message {
    constructor(conversation, author, body, index) {
      this.sid = sid('IM');
      this.conversation = conversation;
      this.author = author;
      this.body = body;
      this.index = index;
      this.dateCreated = new Date();
      this.participantSid = conversation.participants.get(author)?.sid ?? null;
    }
  }

  /** A page of messages ending at `end` (exclusive), newest last, like the SDK's. */
  function messagePage(conversation, end, pageSize) {
    const start = Math.max(0, end - pageSize);
    const items = conversation.messages.slice(start, end);
    return {
      items,
      hasPrevPage: start > 0,
      hasNextPage: end < conversation.messages.length,
      async prevPage() {
        await record('prevPage', []);
        await pageGate();
        return messagePage(conversation, start, pageSize);
      },
      async nextPage() {
        await record('nextPage', []);
        return messagePage(conversation, Math.min(conversation.messages.length, end + pageSize), pageSize);
      },
    };
  }

  const BUBBLING = ['messageAdded', 'participantJoined', 'participantLeft', 'typingStarted', 'typingEnded'];

  class Conversation extends Emitter {
    constructor(name) {
      super();
      this.sid = sid('CH');
      this.uniqueName = name;
      this.friendlyName = name;
      this.messages = [];
      this.participants = new Map();
      this.lastReadMessageIndex = null;
      this.dateCreated = new Date();
    }
    // Like the SDK, a conversation's events are also the client's events.
    emit(event, payload) {
      super.emit(event, payload);
      if (BUBBLING.includes(event)) {
        for (const client of state.clients) if (!client.isShutdown) client.emit(event, payload);
      }
    }
    addMessage(author, body) {
      const message = new Message(this, author, body, this.messages.length);
      this.messages.push(message);
      this.emit('messageAdded', message);
      return message;
    }
    addParticipant(identity) {
      if (this.participants.has(identity)) return this.participants.get(identity);
      const participant = new Participant(identity, this);
      this.participants.set(identity, participant);
      this.emit('participantJoined', participant);
      return participant;
    }
    async join() {
      await record('join', [this.uniqueName]);
      // Like Twilio: joining twice is refused (409 Conflict, "Member already exists").
      if (this.participants.has(state.identity)) {
        throw Object.assign(new Error('Conflict'), { code: 50433 });
      }
      this.addParticipant(state.identity);
      return this;
    }
    async getParticipants() {
      await record('getParticipants', [this.uniqueName]);
      return Array.from(this.participants.values());
    }
    async getMessages(pageSize = 30, anchor, direction) {
      await record('getMessages', [this.uniqueName, pageSize, anchor, direction]);
      await pageGate();
      const end = anchor === undefined ? this.messages.length : anchor + 1;
      return messagePage(this, end, pageSize);
    }
    async getMessagesCount() {
      await record('getMessagesCount', [this.uniqueName]);
      return this.messages.length;
    }
    async getUnreadMessagesCount() {
      await record('getUnreadMessagesCount', [this.uniqueName]);
      if (this.lastReadMessageIndex === null) return null;
      return this.messages.filter((m) => m.index > this.lastReadMessageIndex).length;
    }
    async setAllMessagesRead() {
      await record('setAllMessagesRead', [this.uniqueName]);
      this.lastReadMessageIndex = this.messages.length - 1;
      return 0;
    }
    async typing() {
      await record('typing', [this.uniqueName]);
    }
    async sendMessage(body) {
      await record('sendMessage', [this.uniqueName, body]);
      return this.addMessage(state.identity, body).index;
    }
  }

  class Client extends Emitter {
    constructor(token, options) {
      super();
      this.token = token;
      this.options = options;
      this.calls = [{ method: 'constructor', token }];
      this.isShutdown = false;
      this.connectionState = 'connecting';
      state.identity = identityOf(token);
      // Like the SDK: an empty placeholder user until the client is initialised.
      this.user = new User('', '');
      state.clients.push(this);
      setTimeout(() => {
        if (this.isShutdown) return;
        this.emit('connectionStateChanged', 'connecting');
        this.user = userOf(state.identity);
        this.connectionState = 'connected';
        this.emit('connectionStateChanged', 'connected');
        this.emit('initialized');
      }, 0);
    }
    async updateToken(token) {
      this.calls.push({ method: 'updateToken', token });
      await record('updateToken', []);
      this.token = token;
      return this;
    }
    async shutdown() {
      this.calls.push({ method: 'shutdown' });
      this.isShutdown = true;
    }
    async getUser(identity) {
      await record('getUser', [identity]);
      return userOf(identity);
    }
    async getSubscribedConversations() {
      await record('getSubscribedConversations', []);
      const items = Object.values(state.conversations).filter((c) => c.participants.has(state.identity));
      return { items, hasPrevPage: false, hasNextPage: false };
    }
    async getConversationBySid(sid) {
      await record('getConversationBySid', [sid]);
      const found = Object.values(state.conversations).find((c) => c.sid === sid);
      if (found) return found;
      throw Object.assign(new Error('Not Found'), { code: 50350 });
    }
    async getConversationByUniqueName(name) {
      await record('getConversationByUniqueName', [name]);
      if (state.conversations[name]) return state.conversations[name];
      const error = new Error('Not Found');
      error.code = 50350;
      throw error;
    }
    async createConversation(options) {
      await record('createConversation', [options]);
      const conversation = new Conversation(options.uniqueName);
      state.conversations[options.uniqueName] = conversation;
      this.emit('conversationAdded', conversation);
      return conversation;
    }
  }

  // The test's side: Twilio's servers and the other participants.
  state.failNext = (method, error) => (state.failures[method] ||= []).push(error);
  state.addUser = (identity, friendlyName) => {
    userOf(identity).friendlyName = friendlyName;
    return identity;
  };
  state.seed = (name, { participants = [], messages = 0, friendlyName } = {}) => {
    const conversation = (state.conversations[name] ||= new Conversation(name));
    if (friendlyName !== undefined) conversation.friendlyName = friendlyName;
    conversation.addParticipant(state.identity);
    for (const identity of participants) conversation.addParticipant(identity);
    const authors = [state.identity, ...participants];
    const list = typeof messages === 'number'
      ? Array.from({ length: messages }, (_, i) => ({ author: authors[i % authors.length], body: `message ${i}` }))
      : messages;
    for (const { author, body } of list) {
      conversation.messages.push(new Message(conversation, author, body, conversation.messages.length));
    }
    for (const client of state.clients) if (!client.isShutdown) client.emit('conversationJoined', conversation);
    return conversation.sid;
  };
  state.receive = (name, author, body) => state.conversations[name].addMessage(author, body).index;
  state.leave = (name, identity) => {
    const conversation = state.conversations[name];
    const participant = conversation.participants.get(identity);
    conversation.participants.delete(identity);
    conversation.emit('participantLeft', participant);
  };
  const participantFor = (name, identity) =>
    state.conversations[name].participants.get(identity) ?? new Participant(identity, state.conversations[name]);
  state.startTyping = (name, identity) => state.conversations[name].emit('typingStarted', participantFor(name, identity));
  state.stopTyping = (name, identity) => state.conversations[name].emit('typingEnded', participantFor(name, identity));
  state.holdPages = () => {
    let release;
    const promise = new Promise((resolve) => (release = resolve));
    state.held = { promise, release };
  };
  state.releasePages = () => {
    const held = state.held;
    state.held = null;
    held?.release();
  };
  state.callsOf = (method) => state.calls.filter((c) => c.method === method).map((c) => c.args);

  window.Twilio = { Conversations: { Client } };
  // A test that must act before the page starts the SDK (an init script) leaves this.
  if (typeof window.__fakeTwilioSetup === 'function') window.__fakeTwilioSetup(state);
})();
